import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyFormatError, type KeyFormatErrorCode } from './key-format.error';
import { loadPrivateKey, publicKeyFromPrivate } from './private-key-loader';
import { parsePublicKey } from './public-key-parser';
import {
  decodeOpenSshPublicKeyBlob,
  encodeOpenSshPublicKey,
  parseOpenSshPublicKey,
  type OpenSshKeyType,
} from './openssh-public-key';

// ---- An independent encoder of the wire format (RFC 4253 §6.6, RFC 5656 §3.1), for tests only ----

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}
function sshString(value: Buffer | string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([u32(bytes.length), bytes]);
}
/** mpint from a minimal unsigned big-endian magnitude (as JWK n/e are). */
function sshMpint(magnitude: Buffer): Buffer {
  return sshString(magnitude[0] & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
}
function b64u(value: string | undefined): Buffer {
  return Buffer.from(value ?? '', 'base64url');
}
function blobOf(key: KeyObject): { type: OpenSshKeyType; blob: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'OKP')
    return { type: 'ssh-ed25519', blob: Buffer.concat([sshString('ssh-ed25519'), sshString(b64u(jwk.x))]) };
  if (jwk.kty === 'RSA') {
    return {
      type: 'ssh-rsa',
      blob: Buffer.concat([sshString('ssh-rsa'), sshMpint(b64u(jwk.e)), sshMpint(b64u(jwk.n))]),
    };
  }
  const [type, curve] =
    jwk.crv === 'P-256'
      ? (['ecdsa-sha2-nistp256', 'nistp256'] as const)
      : (['ecdsa-sha2-nistp384', 'nistp384'] as const);
  const point = Buffer.concat([Buffer.from([4]), b64u(jwk.x), b64u(jwk.y)]);
  return { type, blob: Buffer.concat([sshString(type), sshString(curve), sshString(point)]) };
}
function line(type: string, blob: Buffer, comment?: string): string {
  return `${type} ${blob.toString('base64')}${comment === undefined ? '' : ` ${comment}`}`;
}

function codeOf(fn: () => unknown): KeyFormatErrorCode | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof KeyFormatError ? error.code : 'other error';
  }
}

const KEYS = {
  ed25519: generateKeyPairSync('ed25519'),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  rsaOddBytes: generateKeyPairSync('rsa', { modulusLength: 2056, publicExponent: 3 }),
};

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

describe('parseOpenSshPublicKey', () => {
  it.each(Object.entries(KEYS))('round-trips a %s key through a hand-encoded line', (_name, pair) => {
    const { type, blob } = blobOf(pair.publicKey);
    const parsed = parseOpenSshPublicKey(line(type, blob, 'alice@example.com  extra words'));
    expect(parsed.keyType).toBe(type);
    expect(parsed.comment).toBe('alice@example.com  extra words');
    expect(spki(parsed.keyObject)).toBe(spki(pair.publicKey));
    const { d: _d, ...expectedJwk } = pair.privateKey.export({ format: 'jwk' });
    expect(parsed.jwk).toEqual(
      Object.fromEntries(
        Object.entries(expectedJwk).filter(([k]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(k)),
      ),
    );
    // Encoder in the module writes the same bytes.
    expect(encodeOpenSshPublicKey(pair.publicKey)).toBe(line(type, blob));
    expect(encodeOpenSshPublicKey(pair.privateKey, 'c')).toBe(line(type, blob, 'c'));
  });

  it('accepts surrounding whitespace and tabs, and no comment', () => {
    const { type, blob } = blobOf(KEYS.ed25519.publicKey);
    const parsed = parseOpenSshPublicKey(`  \t${type}\t${blob.toString('base64')}  \n`);
    expect(parsed.comment).toBeUndefined();
    expect(spki(parsed.keyObject)).toBe(spki(KEYS.ed25519.publicKey));
  });

  describe('strict wire format', () => {
    const ed = blobOf(KEYS.ed25519.publicKey);
    const ec = blobOf(KEYS.p256.publicKey);
    const rsaJwk = KEYS.rsa.publicKey.export({ format: 'jwk' });

    it.each<[string, string, KeyFormatErrorCode]>([
      ['truncated blob', line(ed.type, ed.blob.subarray(0, ed.blob.length - 1)), 'KEY_FORMAT_INVALID'],
      ['blob cut inside a length', line(ed.type, ed.blob.subarray(0, 17)), 'KEY_FORMAT_INVALID'],
      ['trailing bytes', line(ed.type, Buffer.concat([ed.blob, Buffer.from([0])])), 'KEY_FORMAT_INVALID'],
      ['trailing empty string', line(ed.type, Buffer.concat([ed.blob, u32(0)])), 'KEY_FORMAT_INVALID'],
      ['outer type differs from inner type', line('ecdsa-sha2-nistp256', ed.blob), 'KEY_FORMAT_INVALID'],
      ['inner type is another supported type', line('ssh-ed25519', ec.blob), 'KEY_FORMAT_INVALID'],
      [
        'curve name differs from key type',
        line(
          'ecdsa-sha2-nistp256',
          Buffer.concat([
            sshString('ecdsa-sha2-nistp256'),
            sshString('nistp384'),
            ec.blob.subarray(4 + 19 + 4 + 8),
          ]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'compressed EC point',
        line(
          'ecdsa-sha2-nistp256',
          Buffer.concat([
            sshString('ecdsa-sha2-nistp256'),
            sshString('nistp256'),
            sshString(Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 1)])),
          ]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'EC point not on the curve',
        line(
          'ecdsa-sha2-nistp256',
          Buffer.concat([
            sshString('ecdsa-sha2-nistp256'),
            sshString('nistp256'),
            sshString(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])),
          ]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'Ed25519 key of 31 bytes',
        line('ssh-ed25519', Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.alloc(31, 9))])),
        'KEY_FORMAT_INVALID',
      ],
      [
        'mpint with redundant leading zero',
        line(
          'ssh-rsa',
          Buffer.concat([
            sshString('ssh-rsa'),
            sshString(Buffer.from([0, 1, 0, 1])),
            sshMpint(b64u(rsaJwk.n)),
          ]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'negative mpint',
        line(
          'ssh-rsa',
          Buffer.concat([sshString('ssh-rsa'), sshString(Buffer.from([0x81])), sshMpint(b64u(rsaJwk.n))]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'zero-length mpint',
        line(
          'ssh-rsa',
          Buffer.concat([sshString('ssh-rsa'), sshString(Buffer.alloc(0)), sshMpint(b64u(rsaJwk.n))]),
        ),
        'KEY_FORMAT_INVALID',
      ],
      [
        'base64 without padding',
        `${ec.type} ${ec.blob.toString('base64').replace(/=+$/, '')}`,
        'KEY_FORMAT_INVALID',
      ],
      [
        'base64url instead of base64',
        `ssh-rsa ${blobOf(KEYS.rsa.publicKey).blob.toString('base64url')}`,
        'KEY_FORMAT_INVALID',
      ],
      ['two lines', `${line(ed.type, ed.blob)}\n${line(ed.type, ed.blob)}`, 'KEY_FORMAT_INVALID'],
      ['type only', 'ssh-ed25519', 'KEY_FORMAT_INVALID'],
      ['authorized_keys options', `from="10.0.0.1",no-pty ${line(ed.type, ed.blob)}`, 'KEY_FORMAT_INVALID'],
      ['unknown type', line('ssh-foo', ed.blob), 'KEY_FORMAT_INVALID'],
      [
        'DSA',
        line('ssh-dss', Buffer.concat([sshString('ssh-dss'), sshString(Buffer.alloc(4, 1))])),
        'KEY_TYPE_UNSUPPORTED',
      ],
      ['P-521', line('ecdsa-sha2-nistp521', Buffer.alloc(8)), 'KEY_TYPE_UNSUPPORTED'],
      ['security key', line('sk-ssh-ed25519@openssh.com', Buffer.alloc(8)), 'KEY_TYPE_UNSUPPORTED'],
      ['certificate', line('ssh-ed25519-cert-v01@openssh.com', Buffer.alloc(8)), 'KEY_TYPE_UNSUPPORTED'],
      ['prototype key name', line('constructor', ed.blob), 'KEY_FORMAT_INVALID'],
    ])('refuses %s', (_what, input, code) => {
      expect(codeOf(() => parseOpenSshPublicKey(input))).toBe(code);
    });

    it('refuses a non-canonical base64 encoding (unused bits set)', () => {
      const text = ec.blob.toString('base64'); // 104 bytes -> ends with one "=" and 2 unused bits
      expect(text.endsWith('=')).toBe(true);
      const last = text[text.length - 2];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const tweaked = alphabet[alphabet.indexOf(last) | 1];
      expect(tweaked).not.toBe(last);
      expect(codeOf(() => parseOpenSshPublicKey(`${ec.type} ${text.slice(0, -2)}${tweaked}=`))).toBe(
        'KEY_FORMAT_INVALID',
      );
    });

    it('decodes a blob directly and checks the outer name', () => {
      expect(decodeOpenSshPublicKeyBlob(ed.blob, 'ssh-ed25519')).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: KEYS.ed25519.publicKey.export({ format: 'jwk' }).x,
      });
      expect(codeOf(() => decodeOpenSshPublicKeyBlob(ed.blob, 'ssh-rsa'))).toBe('KEY_FORMAT_INVALID');
    });

    it('never quotes more than a short prefix of an unrecognised line', () => {
      const secret = 'x'.repeat(40);
      try {
        parseOpenSshPublicKey(`${secret} AAAA`);
        throw new Error('expected a refusal');
      } catch (error) {
        expect(error).toBeInstanceOf(KeyFormatError);
        expect((error as Error).message).not.toContain('x'.repeat(13));
      }
    });
  });

  it('encodeOpenSshPublicKey refuses unsupported keys', () => {
    expect(codeOf(() => encodeOpenSshPublicKey(generateKeyPairSync('ed448').publicKey))).toBe(
      'KEY_TYPE_UNSUPPORTED',
    );
    expect(
      codeOf(() => encodeOpenSshPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey)),
    ).toBe('KEY_TYPE_UNSUPPORTED');
    expect(codeOf(() => encodeOpenSshPublicKey(KEYS.ed25519.publicKey, 'two\nlines'))).toBe(
      'KEY_FORMAT_INVALID',
    );
  });
});

// ---- Cross-check with the real ssh-keygen ----

function findSshKeygen(): string | undefined {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (error) {
    // ssh-keygen -? exits 1 after printing usage; only a missing binary is a failure.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  return 'ssh-keygen';
}

const sshKeygen = findSshKeygen();
if (sshKeygen === undefined) {
  console.warn('\n*** SKIPPING ssh-keygen cross-checks: ssh-keygen is not installed on this machine. ***\n');
}

/** The Ed25519 seed of an unencrypted "openssh-key-v1" private key file (PROTOCOL.key). */
function ed25519SeedFromOpenSshPrivateKey(pem: string): Buffer {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const data = Buffer.from(body, 'base64');
  let offset = 'openssh-key-v1\0'.length;
  const next = () => {
    const length = data.readUInt32BE(offset);
    const value = data.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  expect(next().toString()).toBe('none'); // cipher
  next(); // kdf
  next(); // kdf options
  expect(data.readUInt32BE(offset)).toBe(1);
  offset += 4;
  next(); // public key blob
  const privateSection = next();
  const inner = Buffer.from(privateSection);
  let o = 8; // two check ints
  const read = () => {
    const length = inner.readUInt32BE(o);
    const value = inner.subarray(o + 4, o + 4 + length);
    o += 4 + length;
    return value;
  };
  expect(read().toString()).toBe('ssh-ed25519');
  read(); // public key
  return read().subarray(0, 32); // seed || public key
}

// Skipped only where ssh-keygen is not installed: it is the reference for the OpenSSH format.
(sshKeygen === undefined ? describe.skip : describe)('against ssh-keygen', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'openssh-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['p256', 'p384', 'rsa'] as const)('ssh-keygen -y of a PKCS#8 %s key equals our line', (name) => {
    const file = join(dir, `${name}.pem`);
    writeFileSync(file, KEYS[name].privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const output = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    const [type, base64] = output.split(' ');
    expect(`${type} ${base64}`).toBe(encodeOpenSshPublicKey(KEYS[name].publicKey));
    const parsed = parseOpenSshPublicKey(output);
    expect(spki(parsed.keyObject)).toBe(spki(KEYS[name].publicKey));
    // And the other way: ssh-keygen converts its own line to the same SPKI PEM.
    writeFileSync(`${file}.pub`, `${output}\n`);
    const pem = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${file}.pub`], { encoding: 'utf8' });
    expect(pem).toBe(spki(parsed.keyObject));
  });

  it('a key generated by ssh-keygen -t ed25519 parses to the public key of its seed', () => {
    const file = join(dir, 'ed');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me@host', '-f', file]);
    const parsed = parseOpenSshPublicKey(readFileSync(`${file}.pub`, 'utf8'));
    expect(parsed.comment).toBe('me@host');
    const seed = ed25519SeedFromOpenSshPrivateKey(readFileSync(file, 'utf8'));
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    const fromSeed = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
    expect(spki(parsed.keyObject)).toBe(spki(fromSeed));
    expect(encodeOpenSshPublicKey(fromSeed, 'me@host')).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
  });

  it('ssh-keygen RSA 3072 and ECDSA keys round-trip', () => {
    for (const [t, bits] of [
      ['rsa', '3072'],
      ['ecdsa', '256'],
      ['ecdsa', '384'],
    ]) {
      const file = join(dir, `gen-${t}-${bits}`);
      execFileSync('ssh-keygen', ['-q', '-t', t, '-b', bits, '-N', '', '-f', file]);
      const text = readFileSync(`${file}.pub`, 'utf8');
      const parsed = parseOpenSshPublicKey(text);
      expect(encodeOpenSshPublicKey(parsed.keyObject)).toBe(text.trim().split(' ').slice(0, 2).join(' '));
    }
  });

  it('an ssh-keygen private key, as written and converted to PKCS#8, loads and matches its .pub', () => {
    const file = join(dir, 'convert');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-f', file]);
    const original = readFileSync(file, 'utf8');
    expect(parsePublicKey(readFileSync(`${file}.pub`, 'utf8')).spkiPem).toBe(
      spki(publicKeyFromPrivate(loadPrivateKey(original))),
    );
    execFileSync('ssh-keygen', ['-q', '-p', '-m', 'PKCS8', '-N', '', '-P', '', '-f', file], {
      stdio: 'ignore',
    });
    const publicKey = publicKeyFromPrivate(loadPrivateKey(readFileSync(file, 'utf8')));
    expect(parsePublicKey(readFileSync(`${file}.pub`, 'utf8')).spkiPem).toBe(spki(publicKey));
  });

  it('real ssh-keygen P-521 and DSA keys are refused as unsupported', () => {
    for (const [t, bits] of [
      ['ecdsa', '521'],
      ['dsa', '1024'],
    ]) {
      const file = join(dir, `gen-${t}-${bits}`);
      try {
        execFileSync('ssh-keygen', ['-q', '-t', t, '-b', bits, '-N', '', '-f', file], { stdio: 'ignore' });
      } catch {
        console.warn(`ssh-keygen cannot create ${t} keys here; skipping that case.`);
        continue;
      }
      expect(codeOf(() => parseOpenSshPublicKey(readFileSync(`${file}.pub`, 'utf8')))).toBe(
        'KEY_TYPE_UNSUPPORTED',
      );
    }
  });
});
