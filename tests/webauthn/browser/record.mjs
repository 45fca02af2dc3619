// Records WebAuthn ceremonies from a real browser: Debian's chromium,
// headless, driven over the DevTools protocol (--remote-debugging-pipe, NUL-
// separated JSON; Node only, nothing from npm), with a virtual authenticator
// (WebAuthn domain: ctap2, internal transport, resident keys, user
// verification). A tiny page on http://localhost:PORT runs
// navigator.credentials.create / .get with known challenges; the toJSON()
// forms, the challenges, the origin and the RP ID go to OUT.
//
//   node record.mjs --out FILE [--chromium /usr/bin/chromium] [--check DRIVER]
//
// --check: also send every ceremony to mfakit's verdict driver: the good ones
// must be accepted, the broken ones (bogus signature, UV off, UP off) refused.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const out = args.out;
const chromiumBin = args.chromium || '/usr/bin/chromium';
if (!out) { console.error('usage: record.mjs --out FILE [--chromium PATH] [--check DRIVER]'); process.exit(2); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const challengeOf = (label) => createHash('sha256').update(`mfakit recorded ceremony: ${label}`).digest().toString('base64url');

// --- the page ---------------------------------------------------------------------
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><meta charset="utf-8"><title>mfakit ceremonies</title><p>recording</p>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://localhost:${server.address().port}`;

// --- a minimal DevTools client over the pipe ---------------------------------------
const profile = mkdtempSync(join(tmpdir(), 'mfakit-webauthn-chromium-'));
const proc = spawn(chromiumBin, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
  `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
proc.stderr.on('data', (d) => { stderr += d; });
let nextId = 1;
const pending = new Map();
let buffer = Buffer.alloc(0);
proc.stdio[4].on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  let end;
  while ((end = buffer.indexOf(0)) !== -1) {
    const msg = JSON.parse(buffer.subarray(0, end).toString('utf8'));
    buffer = buffer.subarray(end + 1);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`)); else p.resolve(msg.result);
    }
  }
});
const exited = new Promise((r) => proc.on('exit', r));
proc.on('error', (e) => { for (const p of pending.values()) p.reject(e); });
function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, method });
    proc.stdio[3].write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
  });
}
async function close() {
  try { await Promise.race([send('Browser.close'), sleep(5000)]); } catch { /* gone */ }
  await Promise.race([exited, sleep(5000)]);
  if (proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(profile, { recursive: true, force: true });
  server.close();
}

const recording = { rpId: 'localhost', origin, browser: '', registrations: [], assertions: [] };
let failed = false;
try {
  recording.browser = (await send('Browser.getVersion')).product;
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const page = (m, p) => send(m, p, sessionId);
  await page('Page.enable');
  await page('Page.navigate', { url: `${origin}/` });
  for (let i = 0; i < 100; ++i) {
    const r = await page('Runtime.evaluate', { expression: 'document.readyState', returnByValue: true });
    if (r.result.value === 'complete') break;
    await sleep(50);
  }
  const evaluate = async (expression) => {
    const r = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  await page('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await page('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  let current = authenticatorId;
  const overrides = (bits) => page('WebAuthn.setResponseOverrideBits', { authenticatorId: current,
    isBogusSignature: false, isBadUV: false, isBadUP: false, ...bits });

  const b64 = 'const d=(s)=>{s=s.replace(/-/g,"+").replace(/_/g,"/");return Uint8Array.from(atob(s+"===".slice((s.length+3)%4)),c=>c.charCodeAt(0));};';
  const create = (label, alg, user, uv = 'required', attestation = 'none') => evaluate(`(async()=>{${b64}
    const c = await navigator.credentials.create({ publicKey: {
      rp: { id: 'localhost', name: 'mfakit' },
      user: { id: d('${user}'), name: 'carol@example.com', displayName: 'Carol' },
      challenge: d('${challengeOf(label)}'),
      pubKeyCredParams: [{ type: 'public-key', alg: ${alg} }],
      authenticatorSelection: { residentKey: 'required', userVerification: '${uv}' },
      attestation: '${attestation}' } });
    return c.toJSON(); })()`);
  const get = (label, allow, uv = 'required') => evaluate(`(async()=>{${b64}
    const c = await navigator.credentials.get({ publicKey: {
      rpId: 'localhost', challenge: d('${challengeOf(label)}'), userVerification: '${uv}',
      allowCredentials: [{ type: 'public-key', id: d('${allow}') }] } });
    return c.toJSON(); })()`);

  let n = 0;
  for (const [name, alg] of [['es256', -7], ['eddsa', -8], ['rs256', -257]]) {
    const user = Buffer.from(`mfakit user ${name}`.padEnd(16, '.')).toString('base64url');
    const label = `registration ${name}`;
    let response;
    try { response = await create(label, alg, user); } catch (e) {
      console.log(`note: the virtual authenticator made no ${name} credential: ${e.message}`);
      continue;
    }
    recording.registrations.push({ name, alg, expect: 'accept', challenge: challengeOf(label), userHandle: user, response });
    for (const kind of ['first', 'second']) {
      const l = `assertion ${name} ${kind} ${n++}`;
      recording.assertions.push({ name: `${name} ${kind}`, credential: name, expect: 'accept', challenge: challengeOf(l),
                                  response: await get(l, response.rawId) });
    }
    // the broken ones ask for UV "discouraged", else chromium itself refuses an answer without UV
    for (const [bad, bits] of [['bogus signature', { isBogusSignature: true }], ['uv off', { isBadUV: true }],
                               ['up off', { isBadUP: true }]]) {
      const uv = bad === 'bogus signature' ? 'required' : 'discouraged';
      await overrides(bits);
      const l = `assertion ${name} ${bad} ${n++}`;
      try {
        recording.assertions.push({ name: `${name} ${bad}`, credential: name, expect: 'refuse', challenge: challengeOf(l),
                                    response: await get(l, response.rawId, uv) });
      } catch (e) { console.log(`note: chromium refused the ${bad} assertion itself: ${e.message}`); }
      await overrides({});
    }
  }
  // broken registrations last: a create refused by chromium can leave the authenticator unusable for a while
  await page('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  current = (await page('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } })).authenticatorId;
  const esUser = (bad) => Buffer.from(`mfakit user es256 ${bad}`).toString('base64url');
  for (const [bad, bits] of [['bogus signature', { isBogusSignature: true }], ['uv off', { isBadUV: true }],
                             ['up off', { isBadUP: true }]]) {
    const uv = bad === 'bogus signature' ? 'required' : 'discouraged';
    await overrides(bits);
    const rl = `registration es256 ${bad}`;
    try {
      recording.registrations.push({ name: `es256 ${bad}`, alg: -7, expect: 'refuse', challenge: challengeOf(rl),
                                     userHandle: esUser(bad), response: await create(rl, -7, esUser(bad), uv, 'direct') });
    } catch (e) { console.log(`note: chromium refused the ${bad} registration itself: ${e.message}`); }
    await overrides({});
  }
} catch (e) {
  console.log(`FAIL: ${e.message}\n${stderr.slice(-2000)}`);
  failed = true;
}
await close();
if (failed) process.exit(1);
writeFileSync(out, `${JSON.stringify(recording, null, 1)}\n`);
console.log(`recorded ${recording.registrations.length} registrations, ${recording.assertions.length} assertions from ${recording.browser} at ${origin}`);
