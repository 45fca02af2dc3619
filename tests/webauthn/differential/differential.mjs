// Differential test: generated WebAuthn registrations and assertions (a
// software authenticator on node:crypto: ES256, EdDSA, RS256; attestation
// none and packed self) and mutations of each go to @simplewebauthn/server and
// to mfakit's verifier (verdict_driver, JSON lines in, verdicts out). Any
// disagreement that is not in INTENDED below fails the test.
//
//   node differential.mjs --driver PATH [--bases N] [--seed S] [--long]
//
// --bases: base credentials (each yields one registration, one assertion and
// their mutations); --long multiplies them by 20.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { verifyRegistrationResponse, verifyAuthenticationResponse } from '@simplewebauthn/server';

// Node 18 (Debian 12's) has no global Web Crypto in an ES module unless run
// with --experimental-global-webcrypto; @simplewebauthn/server looks for it
// when it first hashes, so give it node:crypto's.
if (globalThis.crypto === undefined) globalThis.crypto = crypto.webcrypto;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const driver = opt('--driver');
let bases = Number(opt('--bases', '24'));
const seed = Number(opt('--seed', '20260101'));
if (args.includes('--long')) bases *= 20;
if (!driver) throw new Error('--driver PATH is required');

// --- deterministic choices (the keys and ECDSA nonces come from node:crypto) --
let state = seed >>> 0 || 1;
const rand = () => {  // xorshift32
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state;
};
const pick = (a) => a[rand() % a.length];
const nonzero = () => 1 + (rand() % 255);

const b64u = (b) => Buffer.from(b).toString('base64url');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const RP_ID = 'example.org';
const ORIGIN = 'https://example.org';

// --- CBOR writer: canonical unless asked otherwise ----------------------------
function head(major, v, wide = false) {
  const m = major << 5;
  if (!wide && v < 24) return Buffer.from([m | v]);
  if (!wide && v < 0x100) return Buffer.from([m | 24, v]);
  if (v < 0x10000) return Buffer.from([m | 25, v >> 8, v & 0xff]);
  const b = Buffer.alloc(5); b[0] = m | 26; b.writeUInt32BE(v, 1); return b;
}
const cInt = (v) => (v >= 0 ? head(0, v) : head(1, -1 - v));
const cBytes = (b, wide = false) => Buffer.concat([head(2, b.length, wide), Buffer.from(b)]);
const cText = (t) => Buffer.concat([head(3, Buffer.byteLength(t)), Buffer.from(t)]);
const cMap = (entries, indefinite = false) => indefinite
  ? Buffer.concat([Buffer.from([0xbf]), ...entries.flat(), Buffer.from([0xff])])
  : Buffer.concat([head(5, entries.length), ...entries.flat()]);

// --- credentials ----------------------------------------------------------------
function coseEntries(alg, pub) {
  const jwk = pub.export({ format: 'jwk' });
  const d = (s) => Buffer.from(s, 'base64url');
  if (alg === -7) return [[cInt(1), cInt(2)], [cInt(3), cInt(-7)], [cInt(-1), cInt(1)], [cInt(-2), cBytes(d(jwk.x))], [cInt(-3), cBytes(d(jwk.y))]];
  if (alg === -8) return [[cInt(1), cInt(1)], [cInt(3), cInt(-8)], [cInt(-1), cInt(6)], [cInt(-2), cBytes(d(jwk.x))]];
  return [[cInt(1), cInt(3)], [cInt(3), cInt(-257)], [cInt(-1), cBytes(d(jwk.n))], [cInt(-2), cBytes(d(jwk.e))]];
}
const rsaPool = [];
function newCredential(alg) {
  let kp;
  if (alg === -7) kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === -8) kp = crypto.generateKeyPairSync('ed25519');
  else {  // RSA-2048 keys are slow to make: a small pool, reused
    if (rsaPool.length < 4) rsaPool.push(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }));
    kp = pick(rsaPool);
  }
  const id = crypto.randomBytes(16 + (rand() % 48));
  return { alg, id, priv: kp.privateKey, pub: kp.publicKey, cose: cMap(coseEntries(alg, kp.publicKey)),
           userHandle: crypto.randomBytes(16) };
}
function sign(cred, data) {
  if (cred.alg === -7) return crypto.sign('sha256', data, { key: cred.priv, dsaEncoding: 'der' });
  if (cred.alg === -8) return crypto.sign(null, data, cred.priv);
  return crypto.sign('sha256', data, cred.priv);
}

const UP = 0x01, UV = 0x04, BE = 0x08, BS = 0x10, AT = 0x40;
function authData({ rpId = RP_ID, flags, counter, attested }) {
  const c = Buffer.alloc(4); c.writeUInt32BE(counter >>> 0);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), c, attested ?? Buffer.alloc(0)]);
}
function attestedData(cred, cose = cred.cose) {
  const len = Buffer.alloc(2); len.writeUInt16BE(cred.id.length);
  return Buffer.concat([Buffer.alloc(16), len, cred.id, cose]);
}
const clientData = (type, challenge, extra = {}) =>
  Buffer.from(JSON.stringify({ type, challenge: b64u(challenge), origin: ORIGIN, crossOrigin: false, ...extra }));

// --- base cases and their mutations ---------------------------------------------
// A case: { kind, name, response (object), challenge, counter, backupEligible }.
function registration(cred, fmt, m = {}) {
  const challenge = m.challenge ?? crypto.randomBytes(32);
  const cdj = m.clientDataJSON ?? clientData('webauthn.create', challenge);
  let ad = m.authData ?? authData({ flags: m.flags ?? (UP | UV | AT), counter: m.counter ?? 0,
                                    attested: attestedData(cred, m.cose ?? cred.cose) });
  if (m.editAuthData) ad = m.editAuthData(ad);
  let attStmt;
  if (fmt === 'none') attStmt = cMap([]);
  else {
    let sig = sign(cred, Buffer.concat([m.signedAuthData ?? ad, sha256(cdj)]));
    if (m.editSig) sig = m.editSig(sig);
    attStmt = cMap([[cText('alg'), cInt(m.stmtAlg ?? cred.alg)], [cText('sig'), cBytes(sig)]]);
  }
  let entries = [[cText('fmt'), cText(m.fmt ?? fmt)], [cText('attStmt'), attStmt], [cText('authData'), cBytes(ad, m.wideAuthData)]];
  if (m.editEntries) entries = m.editEntries(entries);
  let att = cMap(entries, m.indefinite);
  if (m.editAtt) att = m.editAtt(att);
  const rawId = b64u(m.rawId ?? cred.id);
  let response = { id: m.id ?? rawId, rawId, type: 'public-key',
    response: { clientDataJSON: b64u(cdj), attestationObject: b64u(att), transports: ['internal'] },
    clientExtensionResults: {}, authenticatorAttachment: 'platform' };
  if (m.editResponse) response = m.editResponse(response);
  return { kind: 'registration', response, challenge };
}
function assertion(cred, stored, m = {}) {
  const challenge = m.challenge ?? crypto.randomBytes(32);
  const cdj = m.clientDataJSON ?? clientData('webauthn.get', challenge);
  let ad = m.authData ?? authData({ rpId: m.rpId, flags: m.flags ?? (UP | UV), counter: m.counter ?? stored.counter + 1 });
  if (m.editAuthData) ad = m.editAuthData(ad);
  let sig = sign(cred, Buffer.concat([ad, sha256(cdj)]));
  if (m.editSig) sig = m.editSig(sig);
  const rawId = b64u(m.rawId ?? cred.id);
  let response = { id: m.id ?? rawId, rawId, type: 'public-key',
    response: { clientDataJSON: b64u(cdj), authenticatorData: b64u(ad), signature: b64u(sig),
                userHandle: b64u(cred.userHandle) },
    clientExtensionResults: {}, authenticatorAttachment: 'platform' };
  if (m.editResponse) response = m.editResponse(response);
  return { kind: 'authentication', response, challenge, counter: stored.counter,
           backupEligible: stored.backupEligible ?? false };
}

const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
function derInts(sig) {  // SEQUENCE { INTEGER r, INTEGER s } with short lengths
  const rl = sig[3]; const r = sig.subarray(4, 4 + rl); const s = sig.subarray(6 + rl);
  return [r, s];
}
function derEncode(r, s) {
  const int = (b) => { let x = Buffer.from(b); while (x.length > 1 && x[0] === 0 && !(x[1] & 0x80)) x = x.subarray(1);
    if (x[0] & 0x80) x = Buffer.concat([Buffer.from([0]), x]); return Buffer.concat([Buffer.from([2, x.length]), x]); };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
const highS = (sig) => {
  const [r, s] = derInts(sig);
  const hs = (P256_N - BigInt('0x' + s.toString('hex'))).toString(16).padStart(64, '0');
  return derEncode(r, Buffer.from(hs, 'hex'));
};
const flipAt = (b, i) => { const x = Buffer.from(b); x[i] ^= nonzero(); return x; };
const other = () => crypto.randomBytes(32);
const cdjRaw = (t) => Buffer.from(t);

// clientDataJSON variants, for both ceremonies (type is the right one)
function clientDataMutations(type, challenge) {
  const c = b64u(challenge);
  const base = { type, challenge: c, origin: ORIGIN, crossOrigin: false };
  const j = (o) => Buffer.from(JSON.stringify(o));
  const wrongType = type === 'webauthn.get' ? 'webauthn.create' : 'webauthn.get';
  return {
    'cd.type.other': j({ ...base, type: wrongType }),
    'cd.type.missing': j({ challenge: c, origin: ORIGIN }),
    'cd.type.number': j({ ...base, type: 1 }),
    'cd.challenge.other': j({ ...base, challenge: b64u(other()) }),
    'cd.challenge.missing': j({ type, origin: ORIGIN }),
    'cd.challenge.padded': j({ ...base, challenge: Buffer.from(challenge).toString('base64') }),
    'cd.challenge.truncated': j({ ...base, challenge: c.slice(0, -1) }),
    'cd.origin.other': j({ ...base, origin: 'https://evil.example.org' }),
    'cd.origin.trailing_slash': j({ ...base, origin: ORIGIN + '/' }),
    'cd.origin.upper': j({ ...base, origin: 'https://EXAMPLE.org' }),
    'cd.origin.port': j({ ...base, origin: ORIGIN + ':443' }),
    'cd.origin.missing': j({ type, challenge: c }),
    'cd.crossOrigin.true': j({ ...base, crossOrigin: true }),
    'cd.topOrigin': j({ ...base, crossOrigin: true, topOrigin: 'https://other.example' }),
    'cd.unknown_member': j({ ...base, other_keys_can_be_added_here: 'do not compare clientDataJSON against a template' }),
    'cd.no_crossOrigin': j({ type, challenge: c, origin: ORIGIN }),
    'cd.tokenBinding.present': j({ ...base, tokenBinding: { status: 'present', id: 'abc' } }),
    'cd.not_json': cdjRaw('{"type":"' + type + '",'),
    'cd.array': j([base]),
    'cd.duplicate_challenge': cdjRaw(`{"type":"${type}","challenge":"${b64u(other())}","challenge":"${c}","origin":"${ORIGIN}"}`),
    'cd.bom': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), j(base)]),
    'cd.whitespace': cdjRaw(' ' + JSON.stringify(base, null, 1) + '\n'),
    'cd.trailing_bytes': Buffer.concat([j(base), cdjRaw('x')]),
  };
}

function responseMutations(kind, cred) {
  return {
    'json.id_differs': (r) => ({ ...r, id: b64u(other()) }),
    'json.rawId_other': (r) => { const x = b64u(other()); return { ...r, id: x, rawId: x }; },
    'json.type': (r) => ({ ...r, type: 'public-key2' }),
    'json.no_clientExtensionResults': (r) => { const { clientExtensionResults, ...rest } = r; return rest; },
    'json.rawId_padded': (r) => ({ ...r, rawId: Buffer.from(cred.id).toString('base64'), id: Buffer.from(cred.id).toString('base64') }),
    ...(kind === 'authentication' ? {
      'json.userHandle_other': (r) => ({ ...r, response: { ...r.response, userHandle: b64u(crypto.randomBytes(16)) } }),
      'json.userHandle_absent': (r) => { const { userHandle, ...rest } = r.response; return { ...r, response: rest }; },
      'json.signature_empty': (r) => ({ ...r, response: { ...r.response, signature: '' } }),
    } : {
      'json.transports_absent': (r) => { const { transports, ...rest } = r.response; return { ...r, response: rest }; },
    }),
  };
}

function* casesFor(alg, fmt) {
  const cred = newCredential(alg);
  // registration: the valid one and its mutations
  const R = (name, m) => ({ name, cred, requireUV: m.requireUV ?? true, byte: m.byte, ...registration(cred, fmt, m) });
  yield R('valid', {});
  const ch = crypto.randomBytes(32);
  for (const [name, cdj] of Object.entries(clientDataMutations('webauthn.create', ch)))
    yield R(name, { challenge: ch, clientDataJSON: cdj });
  for (const [name, edit] of Object.entries(responseMutations('registration', cred))) yield R(name, { editResponse: edit });
  for (let bit = 0; bit < 8; ++bit) yield R(`ad.flag_bit${bit}`, { flags: (UP | UV | AT) ^ (1 << bit) });
  yield R('ad.flags.be', { flags: UP | UV | AT | BE });
  yield R('ad.flags.be_bs', { flags: UP | UV | AT | BE | BS });
  yield R('ad.flags.uv_off_not_required', { flags: UP | AT, requireUV: false });
  yield R('ad.counter_nonzero', { counter: 1 + (rand() % 1000) });
  yield R('ad.rpid_other', { authData: authData({ rpId: 'evil.example.org', flags: UP | UV | AT, counter: 0, attested: attestedData(cred) }) });
  yield R('ad.trailing_byte', { editAuthData: (ad) => Buffer.concat([ad, Buffer.from([0])]) });
  yield R('ad.truncated', { editAuthData: (ad) => ad.subarray(0, ad.length - 1) });
  yield R('ad.credid_length_plus1', { editAuthData: (ad) => { const x = Buffer.from(ad); x.writeUInt16BE(cred.id.length + 1, 53); return x; } });
  yield R('ad.credid_length_minus1', { editAuthData: (ad) => { const x = Buffer.from(ad); x.writeUInt16BE(cred.id.length - 1, 53); return x; } });
  const adLen = authData({ flags: 0, counter: 0, attested: attestedData(cred) }).length;
  for (let k = 0; k < 12; ++k) {  // bytes of the authenticator data, the statement signed over the changed bytes
    const i = k < 3 ? [32, 33, 36][k] : rand() % adLen;
    const region = i < 32 ? 'rp_id_hash' : i === 32 ? 'flags' : i < 37 ? 'counter' : i < 53 ? 'aaguid'
      : i < 55 ? 'credential_id_length' : i < 55 + cred.id.length ? 'credential_id' : 'credential_key';
    yield R(`ad.byte_signed.${region}`, { editAuthData: (ad) => flipAt(ad, i), byte: i });
  }
  if (fmt === 'packed') {
    const plain = authData({ flags: UP | UV | AT, counter: 0, attested: attestedData(cred) });
    yield R('ad.byte_unsigned', { editAuthData: (ad) => flipAt(ad, rand() % ad.length), signedAuthData: plain });
    yield R('sig.flip', { editSig: (s) => flipAt(s, rand() % s.length) });
    yield R('sig.truncate', { editSig: (s) => s.subarray(0, s.length - 1) });
    yield R('sig.append', { editSig: (s) => Buffer.concat([s, Buffer.from([0])]) });
    if (alg === -7) yield R('sig.high_s', { editSig: highS });
    yield R('stmt.alg_other', { stmtAlg: alg === -7 ? -257 : -7 });
  }
  // CBOR: the attestation object and the credential key
  yield R('cbor.att.order', { editEntries: (e) => [e[2], e[0], e[1]] });
  yield R('cbor.att.wide_length', { wideAuthData: true });
  yield R('cbor.att.indefinite_map', { indefinite: true });
  yield R('cbor.att.trailing_byte', { editAtt: (a) => Buffer.concat([a, Buffer.from([0])]) });
  yield R('cbor.att.duplicate_fmt', { editEntries: (e) => [e[0], e[0], e[1], e[2]] });
  yield R('cbor.att.fmt_unknown', { fmt: 'tpm2' });
  yield R('cbor.att.truncated', { editAtt: (a) => a.subarray(0, a.length - 1) });
  const ce = coseEntries(alg, cred.pub);
  yield R('cbor.cose.order', { cose: cMap([ce[1], ce[0], ...ce.slice(2)]) });
  yield R('cbor.cose.extra_label', { cose: cMap([...ce, [cInt(-70), cInt(0)]]) });
  yield R('cbor.cose.alg_mismatch', { cose: cMap([ce[0], [cInt(3), cInt(alg === -8 ? -7 : -8)], ...ce.slice(2)]) });
  yield R('cbor.cose.indefinite', { cose: cMap(ce, true) });
  yield R('cbor.cose.missing_key', { cose: cMap(ce.slice(0, -1)) });

  // assertions against the credential as stored
  const stored = { counter: pick([0, 0, 1 + (rand() % 100000)]), backupEligible: false };
  const A = (name, m, st = stored) => ({ name, cred, requireUV: true, byte: m.byte, ...assertion(cred, st, m) });
  yield A('valid', {});
  const ach = crypto.randomBytes(32);
  for (const [name, cdj] of Object.entries(clientDataMutations('webauthn.get', ach)))
    yield A(name, { challenge: ach, clientDataJSON: cdj });
  for (const [name, edit] of Object.entries(responseMutations('authentication', cred))) yield A(name, { editResponse: edit });
  for (let bit = 0; bit < 8; ++bit) yield A(`ad.flag_bit${bit}`, { flags: (UP | UV) ^ (1 << bit) });
  yield A('ad.flags.be_bs', { flags: UP | UV | BE | BS });
  yield A('ad.flags.be_lost', { flags: UP | UV }, { ...stored, backupEligible: true });
  yield A('ad.flags.be_kept', { flags: UP | UV | BE }, { ...stored, backupEligible: true });
  yield A('ad.rpid_other', { rpId: 'evil.example.org' });
  yield A('ad.counter.equal', { counter: stored.counter });
  yield A('ad.counter.lower', { counter: stored.counter === 0 ? 0 : stored.counter - 1 });
  yield A('ad.counter.zero_after_nonzero', { counter: 0 }, { ...stored, counter: 5 });
  yield A('ad.counter.both_zero', { counter: 0 }, { ...stored, counter: 0 });
  yield A('ad.counter.max', { counter: 0xffffffff });
  yield A('ad.trailing_byte', { editAuthData: (ad) => Buffer.concat([ad, Buffer.from([0])]) });
  yield A('ad.truncated', { editAuthData: (ad) => ad.subarray(0, 36) });
  for (let i = 0; i < 37; ++i)
    yield A(`ad.byte_signed.${i < 32 ? 'rp_id_hash' : i === 32 ? 'flags' : 'counter'}`, { editAuthData: (ad) => flipAt(ad, i), byte: i });
  yield A('ad.byte_unsigned', { editSig: (s) => s, editAuthData: undefined, unsignedFlip: true });
  yield A('sig.flip', { editSig: (s) => flipAt(s, rand() % s.length) });
  yield A('sig.truncate', { editSig: (s) => s.subarray(0, s.length - 1) });
  yield A('sig.append', { editSig: (s) => Buffer.concat([s, Buffer.from([0])]) });
  yield A('sig.other_key', { editSig: () => sign(newCredential(alg === -257 ? -7 : alg), Buffer.from('x')) });
  if (alg === -7) yield A('sig.high_s', { editSig: highS });
  yield A('ad.extension_flag_with_map', {
    flags: UP | UV | 0x80, editAuthData: (ad) => Buffer.concat([ad, cMap([[cText('credProtect'), cInt(1)]])]) });
  yield A('ad.extension_flag_noncanonical_map', {
    flags: UP | UV | 0x80, editAuthData: (ad) => Buffer.concat([ad, cMap([[cText('hmac-secret'), cInt(1)], [cText('a'), cInt(1)]])]) });
}

// the unsigned flip of an assertion: change a byte after signing
function fixUnsigned(c) {
  if (c.name !== 'ad.byte_unsigned' || c.kind !== 'authentication') return c;
  const ad = Buffer.from(c.response.response.authenticatorData, 'base64url');
  c.response.response.authenticatorData = b64u(flipAt(ad, 32 + (rand() % 5)));
  return c;
}

// --- the intended differences -----------------------------------------------
// Each: the case name, mfakit's verdict, the reason. A disagreement is
// intended only when the case's name is listed and mfakit gave the listed verdict.
const INTENDED = {
  'json.no_clientExtensionResults': ['refuse', 'mfakit reads the L3 JSON form strictly: clientExtensionResults is a required member of RegistrationResponseJSON / AuthenticationResponseJSON; SimpleWebAuthn does not look at it'],
  'json.rawId_padded': ['refuse', 'base64url without padding only (L3 §5.1 JSON forms); SimpleWebAuthn decodes padded / standard base64 too'],
  'cd.challenge.padded': ['refuse', 'the challenge is compared as bytes after a strict base64url decode; SimpleWebAuthn compares the string form'],
  'cd.duplicate_challenge': ['refuse', 'duplicate JSON members are refused (ambiguous); JSON.parse keeps the last'],
  'cd.bom': ['refuse', 'clientDataJSON must be one JSON object; a byte-order mark is not JSON (RFC 8259 §8.1); SimpleWebAuthn strips it'],
  'cd.crossOrigin.true': ['refuse', 'crossOrigin: true refused unless the host allows cross-origin ceremonies (§7.1 step 10); SimpleWebAuthn does not check it'],
  'cd.topOrigin': ['refuse', 'crossOrigin / topOrigin checked against the host (§7.1 step 10, §7.2 step 14); SimpleWebAuthn does not check them'],
  'cbor.att.order': ['refuse', 'CTAP2 canonical CBOR: map keys in canonical order; SimpleWebAuthn\'s decoder takes any order'],
  'cbor.att.wide_length': ['refuse', 'shortest encodings only (CTAP2 canonical CBOR)'],
  'cbor.att.indefinite_map': ['refuse', 'definite lengths only (CTAP2 canonical CBOR)'],
  'cbor.cose.order': ['refuse', 'canonical key order inside the COSE key too'],
  'cbor.cose.indefinite': ['refuse', 'definite lengths only inside the COSE key too'],
  'cbor.cose.extra_label': ['refuse', 'a COSE key with labels outside its key type is refused'],
  'cbor.att.duplicate_fmt': ['refuse', 'duplicate map keys are refused'],
  'cbor.att.trailing_byte': ['refuse', 'no bytes after the attestation object'],
  'ad.flags.be_lost': ['refuse', 'a credential stored backup eligible that answers without BE is refused (§7.2 step 19 leaves it to the RP: mfakit\'s policy); SimpleWebAuthn keeps no BE in its credential'],
  'json.rawId_other': ['refuse', 'rawId must be the attested credential ID (registration) and the stored credential\'s ID (§7.2 step 6); SimpleWebAuthn leaves both to the application (here it was handed the credential as found by the response\'s id)'],
  'ad.byte_signed.credential_id': ['refuse', 'the changed attested credential ID no longer equals the response\'s rawId: see json.rawId_other'],
  'ad.byte_signed.credential_key': ['refuse', 'the credential key is validated at registration (an EC point off the curve, a broken COSE map); SimpleWebAuthn with attestation none stores what it got'],
  'json.userHandle_other': ['refuse', 'the response\'s user handle must be the stored credential\'s user (§7.2 step 6); SimpleWebAuthn leaves it to the application'],
  'ad.truncated': ['refuse', 'a credential key cut short is a malformed COSE key; SimpleWebAuthn\'s CBOR decoder takes the truncated item'],
  'cbor.att.truncated': ['refuse', 'a truncated attestation object does not decode; SimpleWebAuthn\'s CBOR decoder takes it'],
  'cbor.cose.alg_mismatch': ['refuse', 'key type, curve and alg must agree (an EC2 P-256 key under -8 and the like); SimpleWebAuthn with attestation none takes the key as given'],
  'cbor.cose.missing_key': ['refuse', 'a COSE key without one of its coordinates is refused at registration; SimpleWebAuthn with attestation none stores it'],
  'sig.append': ['refuse', 'a signature with bytes after its DER encoding (ES256) is refused: OpenSSL\'s strict DER; SimpleWebAuthn unwraps the DER and ignores the rest'],
  'stmt.alg_other': ['refuse', 'packed self attestation: the statement\'s alg must be the credential key\'s (§8.2 verification procedure); SimpleWebAuthn does not compare them'],
  'ad.extension_flag_noncanonical_map': ['refuse', 'extension outputs are CBOR too: canonical key order'],
};

// --- run ----------------------------------------------------------------------
const algs = [-7, -8, -257];
const fmts = ['none', 'packed'];
const cases = [];
for (let b = 0; b < bases; ++b) {
  for (const c of casesFor(algs[b % 3], fmts[Math.floor(b / 3) % 2])) {
    c.alg = algs[b % 3]; c.fmt = fmts[Math.floor(b / 3) % 2];
    cases.push(fixUnsigned(c));
  }
}

async function reference(c) {
  try {
    if (c.kind === 'registration') {
      const v = await verifyRegistrationResponse({ response: c.response, expectedChallenge: b64u(c.challenge),
        expectedOrigin: ORIGIN, expectedRPID: RP_ID, requireUserVerification: c.requireUV !== false,
        supportedAlgorithmIDs: [-8, -7, -257] });
      return v.verified ? 'accept' : 'refuse';
    }
    const v = await verifyAuthenticationResponse({ response: c.response, expectedChallenge: b64u(c.challenge),
      expectedOrigin: ORIGIN, expectedRPID: RP_ID, requireUserVerification: true,
      credential: { id: c.response.rawId, publicKey: new Uint8Array(c.cred.cose), counter: c.counter } });
    return v.verified ? 'accept' : 'refuse';
  } catch {
    return 'refuse';
  }
}

function runDriver(lines) {
  return new Promise((resolve, reject) => {
    const p = spawn(driver, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out.split('\n').filter((l) => l)) : reject(new Error(`driver exit ${code}`))));
    p.stdin.end(lines.join('\n') + '\n');
  });
}


const started = Date.now();
const lines = cases.map((c) => JSON.stringify({
  kind: c.kind, response: JSON.stringify(c.response), challenge: b64u(c.challenge), rpId: RP_ID, origin: ORIGIN,
  requireUserVerification: c.requireUV, credentialId: b64u(c.cred.id), publicKey: b64u(c.cred.cose),
  userHandle: b64u(c.cred.userHandle), counter: c.counter ?? 0, backupEligible: c.backupEligible ?? false }));
const ours = await runDriver(lines);
if (ours.length !== cases.length) throw new Error(`driver gave ${ours.length} verdicts for ${cases.length} cases`);
const theirs = [];
for (const c of cases) theirs.push(await reference(c));

const tally = {};
let agree = 0, intended = 0, accepted = 0;
const unexplained = [];
const bump = (k) => { tally[k] = (tally[k] ?? 0) + 1; };
cases.forEach((c, i) => {
  const mine = ours[i].split(' ')[0];
  if (mine === 'bad-case') unexplained.push({ i, c, mine: ours[i], theirs: theirs[i] });
  if (c.name === 'valid' && (mine !== 'accept' || theirs[i] !== 'accept'))
    unexplained.push({ i, c, mine: ours[i], theirs: theirs[i], note: 'a valid case must pass both' });
  if (mine === theirs[i]) { ++agree; if (mine === 'accept') ++accepted; return; }
  const why = INTENDED[c.name];
  if (why && why[0] === mine) { ++intended; bump(`${c.name}: mfakit ${mine}, simplewebauthn ${theirs[i]}`); return; }
  unexplained.push({ i, c, mine: ours[i], theirs: theirs[i] });
});
const kinds = (k) => cases.filter((c) => c.kind === k).length;
console.log(`cases ${cases.length} (registrations ${kinds('registration')}, assertions ${kinds('authentication')}; ` +
            `bases ${bases}, seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`agree ${agree} (both accept ${accepted}), intended differences ${intended}, unexplained ${unexplained.length}`);
for (const [k, n] of Object.entries(tally).sort()) console.log(`  intended  ${String(n).padStart(5)}  ${k}`);
const seen = new Set();
for (const u of unexplained) {
  const key = `${u.c.kind} ${u.c.name} ${u.mine} ${u.theirs}`;
  if (seen.has(key)) continue;
  seen.add(key);
  const n = unexplained.filter((x) => `${x.c.kind} ${x.c.name} ${x.mine} ${x.theirs}` === key).length;
  console.log(`UNEXPLAINED x${n}: ${u.c.kind} ${u.c.name} (alg ${u.c.alg}, ${u.c.fmt}${u.c.byte !== undefined ? ', byte ' + u.c.byte : ''}): ` +
              `mfakit "${u.mine}", simplewebauthn "${u.theirs}"${u.note ? ' - ' + u.note : ''}`);
}
process.exit(unexplained.length === 0 && accepted > 0 ? 0 : 1);
