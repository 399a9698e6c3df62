import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenSshKeyError } from './openssh-key.error';
import { isOpenSshPrivateKey, parseOpenSshPrivateKey } from './openssh-private-key';

const hasKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen']).status === 0;
if (!hasKeygen && process.env.REQUIRE_SERVICES === '1')
  throw new Error('ssh-keygen is required (REQUIRE_SERVICES=1): apt-get install openssh-client');
if (!hasKeygen)
  console.warn('SKIPPING the ssh-keygen cases of openssh-private-key.spec.ts: ssh-keygen not installed');
/** The cases that need real ssh-keygen files; skipped, visibly, where it is not installed. */
const describeKeygen = hasKeygen ? describe : describe.skip;

/** An OpenSSH key file holding one key of `type`, built by hand (ssh-keygen makes sk-* keys only with a token). */
function handBuiltKey(type: string, publicParts: Buffer[], privateParts: Buffer[]): string {
  const str = (b: Buffer | string) => {
    const bytes = Buffer.from(b);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const check = Buffer.from([0, 0, 0, 42, 0, 0, 0, 42]);
  let secret = Buffer.concat([check, str(type), ...publicParts.map(str), ...privateParts, str('hand@test')]);
  for (let pad = 1; secret.length % 8 !== 0; pad++) secret = Buffer.concat([secret, Buffer.from([pad])]);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    str('none'),
    str('none'),
    str(''),
    Buffer.from([0, 0, 0, 1]),
    str(Buffer.concat([str(type), ...publicParts.map(str)])),
    str(secret),
  ]);
  const body = blob
    .toString('base64')
    .match(/.{1,70}/g)!
    .join('\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OpenSshKeyError);
    return (error as OpenSshKeyError).code;
  }
  return undefined;
}

describe('parseOpenSshPrivateKey', () => {
  it('refuses a security-key (sk-ssh-ed25519) key by name', () => {
    const text = handBuiltKey(
      'sk-ssh-ed25519@openssh.com',
      [Buffer.alloc(32, 7), Buffer.from('ssh:')],
      [Buffer.from([1]), Buffer.from([0, 0, 0, 16]), Buffer.alloc(16, 1), Buffer.from([0, 0, 0, 0])],
    );
    expect(isOpenSshPrivateKey(text)).toBe(true);
    expect(() => parseOpenSshPrivateKey(text)).toThrow(
      new OpenSshKeyError(
        'OPENSSH_KEY_TYPE_UNSUPPORTED',
        'OpenSSH security-key (sk-ssh-ed25519@openssh.com) keys cannot sign here: use an Ed25519, ECDSA P-256/P-384 or RSA key (ssh-keygen -t ed25519).',
      ),
    );
  });

  it('refuses damaged, truncated and oversized input as OPENSSH_KEY_INVALID, never with a stack of ssh2', () => {
    const truncated =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    expect(codeOf(() => parseOpenSshPrivateKey(truncated))).toBe('OPENSSH_KEY_INVALID');
    const huge = `-----BEGIN OPENSSH PRIVATE KEY-----\n${'A'.repeat(70 * 1024)}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(codeOf(() => parseOpenSshPrivateKey(huge))).toBe('OPENSSH_KEY_INVALID');
    expect(isOpenSshPrivateKey('-----BEGIN PRIVATE KEY-----\n')).toBe(false);
  });

  describeKeygen('with keys from ssh-keygen', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'kpa-openssh-unit-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const keygen = (name: string, args: string[], passphrase = '') => {
      execFileSync('ssh-keygen', ['-q', ...args, '-N', passphrase, '-f', join(dir, name)], {
        stdio: 'ignore',
      });
      return readFileSync(join(dir, name));
    };

    it.each([
      ['ed25519', ['-t', 'ed25519'], 'ed25519', undefined],
      ['ecdsa P-256', ['-t', 'ecdsa', '-b', '256'], 'ec', 'prime256v1'],
      ['ecdsa P-384', ['-t', 'ecdsa', '-b', '384'], 'ec', 'secp384r1'],
      ['rsa 3072', ['-t', 'rsa', '-b', '3072'], 'rsa', undefined],
    ])('loads %s, plain and encrypted, as the matching KeyObject', (name, args, type, curve) => {
      const file = name.replace(/\W/g, '');
      const plain = parseOpenSshPrivateKey(keygen(file, args));
      const encrypted = parseOpenSshPrivateKey(keygen(`${file}-enc`, args, 'pw 1'), 'pw 1');
      for (const key of [plain, encrypted]) {
        expect([key.type, key.asymmetricKeyType, key.asymmetricKeyDetails?.namedCurve]).toEqual([
          'private',
          type,
          curve,
        ]);
      }
    });

    it('names a missing and a wrong passphrase apart, and never repeats the passphrase', () => {
      const key = keygen('enc', ['-t', 'ed25519'], 'right one');
      expect(codeOf(() => parseOpenSshPrivateKey(key))).toBe('OPENSSH_PASSPHRASE_REQUIRED');
      expect(codeOf(() => parseOpenSshPrivateKey(key, ''))).toBe('OPENSSH_PASSPHRASE_REQUIRED');
      try {
        parseOpenSshPrivateKey(key, 'wrong secret value');
        throw new Error('accepted');
      } catch (error) {
        expect(error).toMatchObject({ code: 'OPENSSH_PASSPHRASE_WRONG' });
        expect((error as Error).message).not.toContain('wrong secret value');
      }
    });

    it.each(['aes256-gcm@openssh.com', 'aes128-gcm@openssh.com'])(
      'RED CASE (red-team 5 R7a): a %s key with a wrong passphrase is OPENSSH_PASSPHRASE_WRONG, and loads with the right one',
      (cipher) => {
        const key = keygen(`gcm-${cipher.slice(0, 6)}`, ['-t', 'ed25519', '-Z', cipher], 'right one');
        expect(parseOpenSshPrivateKey(key, 'right one').asymmetricKeyType).toBe('ed25519');
        expect(codeOf(() => parseOpenSshPrivateKey(key, 'wrong'))).toBe('OPENSSH_PASSPHRASE_WRONG');
      },
    );

    it('RED CASE (red-team 5 R7b, R7c): a chacha20-poly1305 key is OPENSSH_CIPHER_UNSUPPORTED naming ssh-keygen -p -Z aes256-ctr, in this jest realm too', () => {
      const key = keygen('chacha', ['-t', 'ed25519', '-Z', 'chacha20-poly1305@openssh.com'], 'right one');
      for (const passphrase of ['right one', 'wrong', undefined]) {
        let error: unknown;
        try {
          parseOpenSshPrivateKey(key, passphrase);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(OpenSshKeyError);
        expect(error).toMatchObject({
          code: 'OPENSSH_CIPHER_UNSUPPORTED',
          message: expect.stringContaining(
            'chacha20-poly1305@openssh.com, which ssh2 (the library that reads OpenSSH keys here) cannot decrypt: ' +
              're-encrypt it with a cipher it reads, keeping the passphrase: ssh-keygen -p -Z aes256-ctr -f KEYFILE',
          ),
        });
      }
      // The fix the message names works: re-encrypted with aes256-ctr, the key loads.
      execFileSync(
        'ssh-keygen',
        ['-q', '-p', '-P', 'right one', '-N', 'right one', '-Z', 'aes256-ctr', '-f', join(dir, 'chacha')],
        {
          stdio: 'ignore',
        },
      );
      expect(parseOpenSshPrivateKey(readFileSync(join(dir, 'chacha')), 'right one').asymmetricKeyType).toBe(
        'ed25519',
      );
    });

    it('refuses RSA under 2048 bits', () => {
      const key = keygen('small', ['-t', 'rsa', '-b', '1024']);
      expect(codeOf(() => parseOpenSshPrivateKey(key))).toBe('OPENSSH_KEY_TYPE_UNSUPPORTED');
    });
  });
});
