// Reference results from the npm package `otpauth` (pinned in package.json /
// package-lock.json, installed by `npm ci` in this folder) for
// tests/interop/interop_test.cpp.
//
// Reads a JSON array of cases on stdin and writes exactly one line per case,
// in order:
//   {op:"totp", secret, algorithm, digits, period, time}  -> the code (time in Unix seconds)
//   {op:"hotp", secret, algorithm, digits, counter}       -> the code
//   {op:"parse", uri}                                      -> "type h<issuer hex> h<label hex> secret algorithm digits period|counter"
//   {op:"build", type, issuer, label, secret, algorithm, digits, period|counter} -> otpauth's key URI
// A case that otpauth rejects, or that a JavaScript number cannot carry
// exactly, yields "ERROR <reason>" (which never equals a code, so the C++ side
// counts it as a mismatch).
'use strict';

const fs = require('node:fs');
const OTPAuth = require('otpauth');

function exactInteger(v, what) {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} is not exactly representable`);
  return v;
}

const hex = (s) => 'h' + Buffer.from(s, 'utf8').toString('hex');

function run(c) {
  switch (c.op) {
    case 'totp': {
      const totp = new OTPAuth.TOTP({
        secret: OTPAuth.Secret.fromBase32(c.secret),
        algorithm: c.algorithm,
        digits: c.digits,
        period: c.period,
      });
      return totp.generate({ timestamp: exactInteger(exactInteger(c.time, 'time') * 1000, 'time in ms') });
    }
    case 'hotp': {
      const hotp = new OTPAuth.HOTP({
        secret: OTPAuth.Secret.fromBase32(c.secret),
        algorithm: c.algorithm,
        digits: c.digits,
      });
      return hotp.generate({ counter: exactInteger(c.counter, 'counter') });
    }
    case 'parse': {
      const otp = OTPAuth.URI.parse(c.uri);
      const isTotp = otp instanceof OTPAuth.TOTP;
      return [
        isTotp ? 'totp' : 'hotp',
        hex(otp.issuer),
        hex(otp.label),
        otp.secret.base32,
        otp.algorithm,
        String(otp.digits),
        String(isTotp ? otp.period : otp.counter),
      ].join(' ');
    }
    case 'build': {
      const config = {
        issuer: c.issuer,
        label: c.label,
        secret: OTPAuth.Secret.fromBase32(c.secret),
        algorithm: c.algorithm,
        digits: c.digits,
      };
      if (c.type === 'hotp') return new OTPAuth.HOTP({ ...config, counter: exactInteger(c.counter, 'counter') }).toString();
      return new OTPAuth.TOTP({ ...config, period: c.period }).toString();
    }
    default:
      throw new TypeError(`unknown op ${c.op}`);
  }
}

const cases = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = cases.map((c) => {
  try {
    return String(run(c));
  } catch (e) {
    return 'ERROR ' + String(e && e.message).replace(/\s+/g, ' ');
  }
});
process.stdout.write(`otpauth ${OTPAuth.version}\n` + out.join('\n') + '\n');
