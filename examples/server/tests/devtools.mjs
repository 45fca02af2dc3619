// A minimal DevTools protocol client over chromium's --remote-debugging-pipe, shared by the browser
// tests of the demo page (browser_test.mjs: TOTP; passkey_browser_test.mjs: passkeys).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Browser {
  constructor(chromiumBin) {
    this.profile = mkdtempSync(join(tmpdir(), 'mfakit-chromium-'));
    this.proc = spawn(chromiumBin, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
      '--window-size=900,1300', `--user-data-dir=${this.profile}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.buffer = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => this.onData(chunk));
    this.exited = new Promise((r) => this.proc.on('exit', r));
    this.proc.on('error', (e) => { for (const p of this.pending.values()) p.reject(e); });
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    let end;
    while ((end = this.buffer.indexOf(0)) !== -1) {
      const msg = JSON.parse(this.buffer.subarray(0, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
      if (msg.id !== undefined && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners) l(msg);
      }
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(`${JSON.stringify(msg)}\0`);
    });
  }

  async close() {
    try { await Promise.race([this.send('Browser.close'), sleep(5000)]); } catch (_) { /* already gone */ }
    await Promise.race([this.exited, sleep(5000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  // check(cond, what): the test's check (counts, throws when cond is false); screenshots go to outDir
  constructor(browser, sessionId, { check, outDir }) {
    this.b = browser;
    this.check = check;
    this.outDir = outDir;
    this.s = sessionId;
    this.problems = [];
    browser.listeners.push((msg) => {
      if (msg.sessionId !== sessionId) return;
      if (msg.method === 'Runtime.exceptionThrown') this.problems.push(`exception: ${msg.params.exceptionDetails.text}`);
      if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') {
        this.problems.push(`console.error: ${msg.params.args.map((a) => a.value).join(' ')}`);
      }
      if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') {
        const e = msg.params.entry;
        // A 4xx answer the page expects (wrong code, 401 on logout) is logged
        // as a network error; anything else (CSP, script errors) is a problem.
        if (!(e.source === 'network' && /status of 4\d\d/.test(e.text))) this.problems.push(`log: ${e.text}`);
      }
    });
  }

  send(method, params) { return this.b.send(method, params, this.s); }

  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text} in ${expression}`);
    return r.result.value;
  }

  async waitFor(expression, what, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.eval(`Boolean(${expression})`)) { this.check(true, what); return; }
      if (Date.now() > deadline) {
        const msg = await this.eval("document.getElementById('message').textContent");
        throw new Error(`timed out waiting for ${what} (page message: "${msg}")`);
      }
      await sleep(100);
    }
  }

  visible(id) { return `(() => { const e = document.getElementById('${id}'); return e && e.offsetParent !== null; })()`; }

  async click(selector) {
    const box = await this.eval(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
      if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();
      return {x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width}; })()`);
    this.check(box && box.w > 0, `${selector} is on the page`);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    }
  }

  async type(selector, text) {
    await this.click(selector);
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).select()`);
    await this.send('Input.insertText', { text });
  }

  async screenshot(name) {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    const path = join(this.outDir, name);
    writeFileSync(path, Buffer.from(data, 'base64'));
    console.log(`screenshot: ${path}`);
  }
}
