// A real browser on the demo page: Debian's chromium, headless, driven over
// the DevTools protocol through --remote-debugging-pipe (file descriptors 3
// and 4, NUL-separated JSON), so the test needs Node and nothing from npm.
//
//   node browser_test.mjs --server PATH --out DIR [--chromium /usr/bin/chromium]
//
// It starts the demo server (real KDF costs, memory store, a pinned test
// clock), then as a user would: logs in, sets up (the QR image must decode in
// the browser), reads the secret off the page, computes the code with
// oathtool, enables, sees 10 backup codes, logs out, logs in with a TOTP code,
// logs out, logs in with a backup code. Mouse clicks and typed text are real
// input events. Screenshots go to DIR. Any console error or CSP violation
// fails the test; a missing chromium or oathtool fails it too.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, Page } from './devtools.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const serverBin = args.server;
const outDir = args.out;
const chromiumBin = args.chromium || '/usr/bin/chromium';
if (!serverBin || !outDir) {
  console.error('usage: browser_test.mjs --server PATH --out DIR [--chromium PATH]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

let checks = 0;
function check(cond, what) {
  checks += 1;
  if (!cond) throw new Error(`check failed: ${what}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the demo server, with a pinned clock -----------------------------------------
const work = mkdtempSync(join(tmpdir(), 'mfakit-browser-'));
const clockFile = join(work, 'clock');
let clock = Math.floor(Date.now() / 1000 / 30) * 30 + 5;  // 5 s into a step
function pin() {
  writeFileSync(`${clockFile}.tmp`, `@${clock}`);
  renameSync(`${clockFile}.tmp`, clockFile);
}
pin();

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ['--port', '0', '--store', 'memory', '--clock-offset-file', clockFile,
      '--user', 'carol@example.com:carol browser password'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let log = '';
    proc.stderr.on('data', (d) => { log += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) resolve({ proc, url: m[1], log: () => log });
    });
    proc.on('exit', (code) => reject(new Error(`server exited early (${code}): ${log}`)));
    setTimeout(() => reject(new Error('server did not start')), 30000);
  });
}

function totp(secret, at) {
  const code = execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${at}`], { encoding: 'utf8' }).trim();
  check(/^\d{6}$/.test(code), 'oathtool printed a 6-digit code');
  return code;
}


async function logIn(page, email, password) {
  await page.waitFor(page.visible('login-section'), 'the login form');
  await page.type('#email', email);
  await page.type('#password', password);
  await page.click('#login-btn');
}

async function main() {
  const started = Date.now();
  try {
    execFileSync('oathtool', ['--version'], { stdio: 'ignore' });
  } catch (_) {
    throw new Error('oathtool is not installed (see .ci/install-deps)');
  }
  const server = await startServer();
  const browser = new Browser(chromiumBin);
  try {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(browser, sessionId, { check, outDir });
    for (const domain of ['Page', 'Runtime', 'Log']) await page.send(`${domain}.enable`, {});
    await page.send('Emulation.setDeviceMetricsOverride', { width: 900, height: 1300, deviceScaleFactor: 1, mobile: false });
    await page.send('Page.navigate', { url: server.url });
    await page.waitFor("document.readyState === 'complete'", 'the page to load');
    check(await page.eval('document.title') === 'mfakit demo', 'the page title');
    await page.screenshot('demo-0-login.png');

    // log in (no second factor yet)
    const email = 'carol@example.com';
    const password = 'carol browser password';
    await logIn(page, email, password);
    await page.waitFor(page.visible('account-section'), 'the account section');
    await page.waitFor("document.getElementById('status-totp').textContent === 'Off'", 'status: two-factor off');
    check(await page.eval("document.getElementById('who').textContent") === email, 'signed in as carol');

    // set up: the QR image must load and decode in the browser
    await page.click('#setup-btn');
    await page.waitFor(page.visible('setup-panel'), 'the setup panel');
    await page.waitFor("document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0",
      'the QR code image to decode');
    const qr = await page.eval("[document.getElementById('qr').naturalWidth, document.getElementById('qr').naturalHeight]");
    check(qr[0] === qr[1] && qr[0] >= 250 && qr[0] <= 350, `the QR image is about 300x300 (${qr})`);
    const secret = await page.eval("document.getElementById('secret').textContent");
    check(/^[A-Z2-7]{32}$/.test(secret), 'the page shows a base32 secret');
    await page.screenshot('demo-1-setup.png');

    // enable with the code an app would show now
    const enabledAt = clock;
    await page.type('#enable-code', totp(secret, enabledAt));
    await page.click('#enable-btn');
    await page.waitFor(page.visible('codes-panel'), 'the backup codes');
    const codes = await page.eval("[...document.querySelectorAll('#backup-codes li')].map((li) => li.textContent)");
    check(codes.length === 10 && new Set(codes).size === 10, `10 distinct backup codes (${codes.length})`);
    check(codes.every((c) => /^[abcdefghjkmnpqrstuvwxyz23456789]{4}-[abcdefghjkmnpqrstuvwxyz23456789]{4}$/.test(c)),
      'backup codes look like xxxx-xxxx');
    await page.waitFor("document.getElementById('status-totp').textContent === 'On'", 'status: two-factor on');
    await page.waitFor("document.getElementById('status-backup').textContent === '10'", 'status: 10 backup codes');
    check(await page.eval("document.getElementById('secret').textContent") === '', 'the secret is gone from the page');
    await page.screenshot('demo-2-backup-codes.png');

    // log out; the codes are not shown again
    await page.click('#codes-done-btn');
    await page.click('#logout-btn');
    await page.waitFor(page.visible('login-section'), 'the login form after logout');
    check(await page.eval("document.querySelectorAll('#backup-codes li').length") === 0, 'the codes are gone');

    // log in with the next step's TOTP code (the enable step is spent)
    clock += 30;
    pin();
    await logIn(page, email, password);
    await page.waitFor(page.visible('mfa-section'), 'the second-factor form');
    await page.type('#mfa-code', totp(secret, enabledAt));
    await page.click('#verify-btn');
    await page.waitFor("document.getElementById('message').classList.contains('error')", 'the replayed code rejected');
    check(await page.eval("document.getElementById('message').textContent") === 'Invalid code', 'replay: "Invalid code"');
    await page.screenshot('demo-3a-second-factor-replay-rejected.png');
    clock += 2;  // past the throttle delay of that failure
    pin();
    await page.type('#mfa-code', totp(secret, clock));
    await page.click('#verify-btn');
    await page.waitFor(page.visible('account-section'), 'the account after a TOTP login');
    await page.waitFor("document.getElementById('status-totp').textContent === 'On'", 'status on after login');
    check((await page.eval("document.getElementById('message').textContent")).includes('authenticator code'),
      'logged in with the authenticator code');
    await page.screenshot('demo-3-logged-in-totp.png');

    // log out, log in with a backup code
    await page.click('#logout-btn');
    await logIn(page, email, password);
    await page.waitFor(page.visible('mfa-section'), 'the second-factor form');
    await page.click('#mfa-type-backup');
    await page.type('#mfa-code', codes[3].toUpperCase());
    await page.click('#verify-btn');
    await page.waitFor(page.visible('account-section'), 'the account after a backup code login');
    await page.waitFor("document.getElementById('status-backup').textContent === '9'", '9 backup codes left');
    await page.screenshot('demo-4-logged-in-backup-code.png');

    check(page.problems.length === 0, `no console errors or CSP violations: ${page.problems.join('; ')}`);
  } finally {
    await browser.close();
    server.proc.kill('SIGTERM');
    const code = await new Promise((r) => (server.proc.exitCode !== null ? r(server.proc.exitCode) : server.proc.on('exit', r)));
    rmSync(work, { recursive: true, force: true });
    check(code === 0, `the server exits 0 (${code})`);
    const log = server.log();
    check(log.includes('audit event=enabled user=carol@example.com'), 'the audit log has the enable');
    check(log.includes('audit event=backup_code_used user=carol@example.com'), 'the audit log has the backup code');
  }
  console.log(`PASS: ${checks} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const watchdog = setTimeout(() => { console.error('FAIL: timed out after 90 s'); process.exit(1); }, 90000);
main().then(() => { clearTimeout(watchdog); process.exit(0); }, (e) => {
  console.error(`FAIL: ${e.stack || e}`);
  clearTimeout(watchdog);
  process.exit(1);
});
