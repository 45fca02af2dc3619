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

  // --- passkeys: WebAuthn Level 3 JSON helpers where the browser has them, base64url by hand where not
  const b64uToBytes = (s) => {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  };
  const bytesToB64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: b64uToBytes(d.id) }));

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return { ...json, challenge: b64uToBytes(json.challenge), user: { ...json.user, id: b64uToBytes(json.user.id) },
      excludeCredentials: descriptors(json.excludeCredentials) };
  }
  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return { ...json, challenge: b64uToBytes(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
  }
  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: bytesToB64u(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = bytesToB64u(r.attestationObject);
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      response.authenticatorData = bytesToB64u(r.authenticatorData);
      response.signature = bytesToB64u(r.signature);
      if (r.userHandle) response.userHandle = bytesToB64u(r.userHandle);
    }
    return { id: cred.id, rawId: bytesToB64u(cred.rawId), type: cred.type, response,
      clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment };
  }
  const passkeysSupported = () => typeof window.PublicKeyCredential === 'function' && navigator.credentials;

  async function refreshPasskeys() {
    const { status, data } = await api('GET', '/api/v1/passkey');
    if (status === 401) return loggedOut('Your session ended; log in again.');
    if (status !== 200) return say(data.error || `Passkey list failed (${status})`, true);
    const list = $('passkey-list');
    list.replaceChildren(...data.map((p) => {
      const li = document.createElement('li');
      li.dataset.id = p.id;
      const name = document.createElement('span');
      name.className = 'pk-name';
      name.textContent = p.name;
      const when = document.createElement('span');
      when.className = 'pk-when';
      when.textContent = p.lastUsedAt ? `last used ${p.lastUsedAt}` : `added ${p.createdAt}`;
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'danger pk-delete';
      del.textContent = 'Delete';
      del.addEventListener('click', () => busy(del, async () => {
        const r = await api('DELETE', `/api/v1/passkey/${encodeURIComponent(p.id)}`);
        if (r.status !== 200) return say(r.data.error || `Delete failed (${r.status})`, true);
        say(`Passkey "${p.name}" deleted. Your other sessions were signed out.`);
        await refreshStatus();
      }));
      li.append(name, when, del);
      return li;
    }));
  }

  $('passkey-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy($('passkey-add-btn'), async () => {
      if (!passkeysSupported()) return say('This browser has no passkey support.', true);
      const name = $('passkey-name').value.trim();
      const opts = await api('POST', '/api/v1/passkey/register/options');
      if (opts.status !== 200) return say(opts.data.error || `Passkey options failed (${opts.status})`, true);
      let cred;
      try {
        cred = await navigator.credentials.create({ publicKey: creationOptions(opts.data) });
      } catch (e) {
        return say(`No passkey was made: ${e.name}`, true);
      }
      const { status, data } = await api('POST', '/api/v1/passkey/register', { name, response: credentialJSON(cred) });
      if (status !== 200) return say(data.error || `Passkey registration failed (${status})`, true);
      say(`Passkey "${data.name}" added. Your other sessions were signed out.`);
      await refreshStatus();
    });
  });

  $('passkey-login-btn').addEventListener('click', () => busy($('passkey-login-btn'), async () => {
    say('');
    if (!passkeysSupported()) return say('This browser has no passkey support.', true);
    const email = $('email').value.trim();
    const opts = await api('POST', '/api/auth/passkey/login/options', email ? { email } : {});
    if (opts.status !== 200) return say(opts.data.error || `Passkey options failed (${opts.status})`, true);
    let cred;
    try {
      cred = await navigator.credentials.get({ publicKey: requestOptions(opts.data) });
    } catch (e) {
      return say(`No passkey was used: ${e.name}`, true);
    }
    const { status, data } = await api('POST', '/api/auth/passkey/login', { response: credentialJSON(cred) });
    if (status !== 200 || !data.token) return say(data.error || `Passkey login failed (${status})`, true);
    state.email = email || whoIs(data.token);
    await signedIn(data.token);
    say('Signed in with a passkey.');
  }));

  // the account a token names (its "sub"): shown on the page only
  function whoIs(token) {
    try {
      const part = token.split('.')[1];
      return JSON.parse(new TextDecoder().decode(b64uToBytes(part))).sub || '';
    } catch (_) {
      return '';
    }
  }

  async function refreshStatus() {
    const { status, data } = await api('GET', '/api/v1/me/mfa/status');
    if (status === 401) return loggedOut('Your session ended; log in again.');
    if (status !== 200) return say(data.error || `Status failed (${status})`, true);
    $('status-totp').textContent = data.totpEnabled ? 'On' : 'Off';
    $('status-backup').textContent = data.totpEnabled ? String(data.backupCodesRemaining) : '–';
    $('status-passkeys').textContent = String(data.passkeysCount);
    $('setup-btn').hidden = data.totpEnabled;
    $('manage-panel').hidden = !data.totpEnabled;
    await refreshPasskeys();
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
    $('passkey-list').replaceChildren();
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
