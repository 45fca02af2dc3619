// Passkeys in a real browser on the demo page: Debian's chromium, headless,
// over the DevTools protocol through --remote-debugging-pipe (as
// browser_test.mjs), with a virtual authenticator of the DevTools WebAuthn
// domain (ctap2, internal transport, resident keys, user verification).
//
//   node passkey_browser_test.mjs --server PATH --out DIR [--chromium /usr/bin/chromium]
//
// The page is opened at http://localhost:PORT (an RP ID cannot be an IP
// address; the server's default origin is that one). As a user would: logs in
// with the password, adds a passkey (the authenticator then holds one
// resident credential, the page lists it), logs out, signs in with it without
// an email (discoverable) and with the email (allowCredentials names it);
// the signature counter grows and the flags carry UP and UV; the assertion
// replayed is refused; an assertion with UV off, one with a bogus signature
// are refused; the passkey deleted, it no longer signs in. Screenshots go to
// DIR. Any console error or CSP violation fails the test.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page } from './devtools.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const serverBin = args.server;
const outDir = args.out;
const chromiumBin = args.chromium || '/usr/bin/chromium';
if (!serverBin || !outDir) {
  console.error('usage: passkey_browser_test.mjs --server PATH --out DIR [--chromium PATH]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

let checks = 0;
function check(cond, what) {
  checks += 1;
  if (!cond) throw new Error(`check failed: ${what}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const EMAIL = 'dave@example.com';
const PASSWORD = 'dave browser password';

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ['--port', '0', '--store', 'memory', '--user', `${EMAIL}:${PASSWORD}`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let log = '';
    proc.stderr.on('data', (d) => { log += d; });
    const drained = new Promise((r) => proc.stderr.on('close', r));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ proc, url: `http://localhost:${m[1]}/`, log: () => log, drained });
    });
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}): ${log}`)));
    setTimeout(() => reject(new Error('server did not start')), 30000);
  });
}


async function logIn(page, email, password) {
  await page.waitFor(page.visible('login-section'), 'the login form');
  await page.type('#email', email);
  await page.type('#password', password);
  await page.click('#login-btn');
}

const b64u = (b64) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

// Kept in the page: the last options and credential JSON of navigator.credentials (the page's own calls).
const RECORDER = `(() => {
  const c = navigator.credentials;
  const create = c.create.bind(c), get = c.get.bind(c);
  const ids = (list) => (list || []).map((d) => btoa(String.fromCharCode(...new Uint8Array(d.id))));
  window.__pk = { gets: 0 };
  c.create = async (o) => { const r = await create(o); window.__pk.created = r.toJSON(); return r; };
  c.get = async (o) => {
    window.__pk.gets += 1;
    window.__pk.allow = ids(o.publicKey.allowCredentials);
    const r = await get(o);
    window.__pk.got = r.toJSON();
    return r;
  };
  return true;
})()`;

async function post(page, path, body) {
  return page.eval(`fetch(${JSON.stringify(path)}, {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: ${JSON.stringify(JSON.stringify(body))}}).then(async (r) => [r.status, await r.text()])`);
}

async function main() {
  const started = Date.now();
  const server = await startServer();
  const browser = new Browser(chromiumBin);
  let failure = null;
  try {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(browser, sessionId, { check, outDir });
    for (const domain of ['Page', 'Runtime', 'Log']) await page.send(`${domain}.enable`, {});
    await page.send('Emulation.setDeviceMetricsOverride', { width: 900, height: 1300, deviceScaleFactor: 1, mobile: false });
    await page.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await page.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true },
    });
    const credentials = async () => (await page.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

    await page.send('Page.navigate', { url: server.url });
    await page.waitFor("document.readyState === 'complete'", 'the page to load');
    check(await page.eval('location.hostname') === 'localhost', 'the page is on localhost');
    check(await page.eval(RECORDER), 'the recorder is in the page');

    // password login, then add a passkey
    await logIn(page, EMAIL, PASSWORD);
    await page.waitFor(page.visible('account-section'), 'the account section');
    await page.waitFor("document.getElementById('status-passkeys').textContent === '0'", 'status: no passkeys');
    await page.type('#passkey-name', 'Laptop');
    await page.click('#passkey-add-btn');
    await page.waitFor("document.querySelectorAll('#passkey-list li').length === 1", 'the passkey in the list');
    await page.waitFor("document.getElementById('status-passkeys').textContent === '1'", 'status: one passkey');
    check(await page.eval("document.querySelector('#passkey-list .pk-name').textContent") === 'Laptop', 'its name');
    let creds = await credentials();
    check(creds.length === 1 && creds[0].isResidentCredential, `one resident credential in the authenticator (${creds.length})`);
    const credId = b64u(creds[0].credentialId);
    check(await page.eval("document.querySelector('#passkey-list li').dataset.id") === credId, 'the list shows its id');
    const created = await page.eval('window.__pk.created');
    check(created.id === credId && typeof created.response.attestationObject === 'string', 'the page sent toJSON()');
    await page.screenshot('passkey-1-added.png');

    // the API is the bearer token's only
    let [st] = await page.eval(`(async () => {
      const o = await fetch('/api/v1/passkey', {headers: {}}); return [o.status]; })()`);
    check(st === 401, `the API wants the bearer token (${st})`);

    // log out, sign in with the passkey, no email: a discoverable credential
    await page.click('#logout-btn');
    await page.waitFor(page.visible('login-section'), 'the login form after logout');
    await page.eval("document.getElementById('email').value = ''");
    await page.click('#passkey-login-btn');
    await page.waitFor(page.visible('account-section'), 'the account after a discoverable passkey login');
    check(await page.eval("document.getElementById('who').textContent") === EMAIL, 'signed in as dave');
    check((await page.eval("document.getElementById('message').textContent")).includes('passkey'), 'the message says so');
    check((await page.eval('window.__pk.allow')).length === 0, 'no allowCredentials without an email');
    const got = await page.eval('window.__pk.got');
    check(got.id === credId && typeof got.response.userHandle === 'string' && got.response.userHandle.length > 0,
      'the assertion is of the credential and carries the user handle');
    const auth = Buffer.from(got.response.authenticatorData, 'base64url');
    check(auth.length === 37 && (auth[32] & 0x05) === 0x05, `flags UP and UV (${auth[32]})`);
    const count1 = auth.readUInt32BE(33);
    creds = await credentials();
    check(creds[0].signCount === count1 && count1 >= 1, `the counter signed is the authenticator's (${count1})`);
    await page.waitFor("document.querySelector('#passkey-list .pk-when').textContent.startsWith('last used')",
      'lastUsedAt set');
    await page.screenshot('passkey-2-signed-in.png');

    // the same assertion again: its ceremony is spent
    let [status, text] = await post(page, '/api/auth/passkey/login', { response: got });
    check(status === 401, `a replayed assertion is refused (${status} ${text})`);

    // log out, sign in with the email: allowCredentials names the credential
    await page.click('#logout-btn');
    await page.waitFor(page.visible('login-section'), 'the login form after logout');
    await page.type('#email', EMAIL);
    await page.click('#passkey-login-btn');
    await page.waitFor(page.visible('account-section'), 'the account after a passkey login by email');
    const allow = (await page.eval('window.__pk.allow')).map(b64u);
    check(allow.length === 1 && allow[0] === credId, 'allowCredentials: the one passkey');
    const count2 = Buffer.from((await page.eval('window.__pk.got')).response.authenticatorData, 'base64url').readUInt32BE(33);
    check(count2 > count1, `the counter grew (${count1} -> ${count2})`);

    // refused: UV off, then a bogus signature (the authenticator's answer bent by DevTools)
    await page.click('#logout-btn');
    await page.waitFor(page.visible('login-section'), 'the login form after logout');
    for (const bits of [{ isBadUV: true }, { isBogusSignature: true }]) {
      await page.send('WebAuthn.setResponseOverrideBits', { authenticatorId, ...bits });
      await page.eval("document.getElementById('message').textContent = ''");
      await page.click('#passkey-login-btn');
      await page.waitFor("document.getElementById('message').classList.contains('error') && "
        + "document.getElementById('message').textContent !== ''", `the login with ${Object.keys(bits)[0]} refused`);
      check(await page.eval("document.getElementById('message').textContent") === 'passkey login failed',
        `${Object.keys(bits)[0]}: "passkey login failed"`);
      check(await page.eval(page.visible('login-section')), 'still signed out');
    }
    await page.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: false, isBogusSignature: false });
    await page.screenshot('passkey-3-refused.png');

    // password login, delete the passkey; it no longer signs in
    await page.eval("document.getElementById('email').value = ''");
    await logIn(page, EMAIL, PASSWORD);
    await page.waitFor(page.visible('account-section'), 'the account section');
    await page.waitFor("document.querySelectorAll('#passkey-list li').length === 1", 'the passkey in the list');
    await page.click('.pk-delete');
    await page.waitFor("document.querySelectorAll('#passkey-list li').length === 0", 'the list empty after delete');
    await page.waitFor("document.getElementById('status-passkeys').textContent === '0'", 'status: no passkeys');
    await page.screenshot('passkey-4-deleted.png');
    await page.click('#logout-btn');
    await page.waitFor(page.visible('login-section'), 'the login form after logout');
    await page.eval("document.getElementById('email').value = ''");
    await page.eval("document.getElementById('message').textContent = ''");
    await page.click('#passkey-login-btn');
    await page.waitFor("document.getElementById('message').textContent === 'passkey login failed'",
      'a deleted passkey refused');

    check(page.problems.length === 0, `no console errors or CSP violations: ${page.problems.join('; ')}`);
  } catch (e) {
    failure = e;
  } finally {
    await browser.close();
    server.proc.kill('SIGTERM');
    const code = await new Promise((r) => (server.proc.exitCode !== null ? r(server.proc.exitCode) : server.proc.on('exit', r)));
    if (failure) throw failure;  // the first failure, not one of the checks below
    check(code === 0, `the server exits 0 (${code})`);
    await Promise.race([server.drained, sleep(5000)]);
    const log = server.log();
    for (const e of ['passkey_registered', 'passkey_used', 'passkey_removed']) {
      check(log.includes(`audit event=${e} user=${EMAIL}`), `the audit log has ${e}`);
    }
  }
  console.log(`PASS: ${checks} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const watchdog = setTimeout(() => { console.error('FAIL: timed out after 90 s'); process.exit(1); }, 90000);
main().then(() => { clearTimeout(watchdog); process.exit(0); }, (e) => {
  console.error(`FAIL: ${e.stack || e}`);
  clearTimeout(watchdog);
  process.exit(1);
});
