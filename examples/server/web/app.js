// The demo page's script: plain DOM and fetch, no build step. The bearer
// token lives in this closure only (a reload logs you out).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, mfaToken: null, email: '' };

  function say(text, isError = false) {
    const m = $('message');
    m.textContent = text;
    m.classList.toggle('error', isError);
    m.hidden = !text;
  }

  function show(section) {
    for (const id of ['login-section', 'mfa-section', 'account-section']) $(id).hidden = id !== section;
  }

  async function api(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {};
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    return { status: res.status, data };
  }

  async function busy(button, work) {
    button.disabled = true;
    try { await work(); } catch (e) { say(`Request failed: ${e.message}`, true); } finally { button.disabled = false; }
  }

  function showCodes(codes) {
    const list = $('backup-codes');
    list.replaceChildren(...codes.map((c) => { const li = document.createElement('li'); li.textContent = c; return li; }));
    $('codes-panel').hidden = false;
  }

  function clearSetup() {
    $('setup-panel').hidden = true;
    $('secret').textContent = '';
    $('qr').removeAttribute('src');
    $('enable-code').value = '';
  }

  async function refreshStatus() {
    const { status, data } = await api('GET', '/api/v1/me/mfa/status');
    if (status === 401) return loggedOut('Your session ended; log in again.');
    if (status !== 200) return say(data.error || `Status failed (${status})`, true);
    $('status-totp').textContent = data.totpEnabled ? 'On' : 'Off';
    $('status-backup').textContent = data.totpEnabled ? String(data.backupCodesRemaining) : '–';
    $('setup-btn').hidden = data.totpEnabled;
    $('manage-panel').hidden = !data.totpEnabled;
  }

  async function signedIn(token) {
    state.token = token;
    state.mfaToken = null;
    $('who').textContent = state.email;
    $('password').value = '';
    $('mfa-code').value = '';
    clearSetup();
    $('codes-panel').hidden = true;
    show('account-section');
    await refreshStatus();
  }

  function loggedOut(text) {
    state.token = null;
    state.mfaToken = null;
    clearSetup();
    $('backup-codes').replaceChildren();
    $('codes-panel').hidden = true;
    show('login-section');
    say(text);
  }

  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('login-btn'), async () => {
      say('');
      state.email = $('email').value.trim();
      const { status, data } = await api('POST', '/api/auth', { email: state.email, password: $('password').value });
      if (status === 200 && data.mfa_required) {
        state.mfaToken = data.mfa_token;
        $('password').value = '';
        show('mfa-section');
        $('mfa-code').focus();
        say('Password accepted. Now the second factor.');
      } else if (status === 200 && data.token) {
        await signedIn(data.token);
        say('Logged in.');
      } else {
        say(data.error || `Login failed (${status})`, true);
      }
    });
  });

  $('mfa-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('verify-btn'), async () => {
      const type = document.querySelector('input[name="mfa-type"]:checked').value;
      const { status, data } = await api('POST', '/api/auth/mfa/verify',
        { mfaToken: state.mfaToken, code: $('mfa-code').value.trim(), type });
      if (status === 200) {
        await signedIn(data.token);
        say(type === 'backup' ? 'Logged in with a backup code. That code is now used up.' : 'Logged in with your authenticator code.');
      } else if (status === 429 || (status === 401 && data.error === 'Invalid or expired MFA token')) {
        loggedOut(`${data.error || 'Too many attempts'}. Log in again.`);
      } else {
        $('mfa-code').value = '';
        say(data.error || `Verification failed (${status})`, true);
      }
    });
  });

  $('mfa-cancel-btn').addEventListener('click', () => loggedOut(''));

  $('setup-btn').addEventListener('click', () => busy($('setup-btn'), async () => {
    const { status, data } = await api('POST', '/api/v1/me/mfa/totp/setup');
    if (status !== 200) return say(data.error || `Setup failed (${status})`, true);
    $('qr').src = data.qrCode;
    $('secret').textContent = data.secret;
    $('setup-panel').hidden = false;
    $('enable-code').focus();
    say('Scan the QR code, then enter the 6-digit code your app shows.');
  }));

  $('enable-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('enable-btn'), async () => {
      const { status, data } = await api('POST', '/api/v1/me/mfa/totp/enable', { code: $('enable-code').value.trim() });
      if (status !== 200) return say(data.error || `Enable failed (${status})`, true);
      clearSetup();
      showCodes(data.backupCodes);
      say('Two-factor authentication is on.');
      await refreshStatus();
    });
  });

  $('codes-done-btn').addEventListener('click', () => {
    $('backup-codes').replaceChildren();
    $('codes-panel').hidden = true;
  });

  // regenerate and disable: the password, and a fresh code when this session signed in without one
  const manageBody = () => {
    const body = { password: $('manage-password').value };
    const code = $('manage-code').value.trim();
    if (code) body.code = code;
    $('manage-password').value = '';
    $('manage-code').value = '';
    return body;
  };

  $('manage-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('regenerate-btn'), async () => {
      const { status, data } = await api('POST', '/api/v1/me/mfa/backup-codes/regenerate', manageBody());
      if (status !== 200) return say(data.error || `Failed (${status})`, true);
      showCodes(data.backupCodes);
      say('New backup codes: the old ones no longer work.');
      await refreshStatus();
    });
  });

  $('disable-btn').addEventListener('click', () => busy($('disable-btn'), async () => {
    const { status, data } = await api('POST', '/api/v1/me/mfa/totp/disable', manageBody());
    if (status !== 200) return say(data.error || `Failed (${status})`, true);
    $('backup-codes').replaceChildren();
    $('codes-panel').hidden = true;
    say('Two-factor authentication is off.');
    await refreshStatus();
  }));

  $('logout-btn').addEventListener('click', () => busy($('logout-btn'), async () => {
    await api('POST', '/api/auth/logout');
    loggedOut('Logged out.');
  }));
})();
