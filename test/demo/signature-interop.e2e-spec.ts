import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli-program';
import { DEBIAN_PYTHON, haveService } from '../setup/services';
import { testKey } from '../support/keys';
import { DemoProcess, REPO, startDemo } from '../support/processes';

const PYTHON_SIGNER = join(REPO, 'test/interop/python_signer.py');
const MASTODON_KEY_ID = 'https://social.example/users/alice#main-key';

const describeIfPython = haveService('python') ? describe : describe.skip;
if (!haveService('python')) console.warn('SKIPPING signature interop: Debian python3-cryptography not found');

/** Signers we did not write, against the demo server over real HTTP. */
describeIfPython.each(['express', 'fastify'])(
  'HTTP signatures from an independent signer, demo on %s',
  (adapter) => {
    let demo: DemoProcess;
    let dir: string;
    const ed = testKey('ed25519', 0);
    const rsa = testKey('rsa', 0);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kpa-interop-'));
      const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` };
      const saved = process.env.DATABASE_URL;
      process.env.DATABASE_URL = env.DATABASE_URL;
      try {
        writeFileSync(join(dir, 'ed.key'), ed.privatePem);
        writeFileSync(join(dir, 'ed.pub'), ed.publicPem);
        writeFileSync(join(dir, 'rsa.key'), rsa.privatePem);
        writeFileSync(join(dir, 'rsa.pub'), rsa.publicPem);
        const io = { out: () => undefined, err: (l: string) => console.error(l) };
        expect(await runCli(['users', 'add', 'alice', '--roles', 'reader', '--create'], io)).toBe(0);
        expect(await runCli(['keys', 'add', 'alice', join(dir, 'ed.pub'), '--key-id', 'py-ed'], io)).toBe(0);
        expect(
          await runCli(['keys', 'add', 'alice', join(dir, 'rsa.pub'), '--key-id', MASTODON_KEY_ID], io),
        ).toBe(0);
      } finally {
        process.env.DATABASE_URL = saved;
      }
      demo = await startDemo({ ...env, HTTP_ADAPTER: adapter });
    });
    afterAll(async () => {
      await demo?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const python = (...args: string[]) => {
      const [status, ...body] = execFileSync(DEBIAN_PYTHON, [PYTHON_SIGNER, ...args], { encoding: 'utf8' })
        .trim()
        .split('\n');
      return { status: Number(status), body: JSON.parse(body.join('\n')) as Record<string, unknown> };
    };

    it('an RFC 9421 request built by hand in Python (cryptography + urllib) gets 200 from /whoami', () => {
      const res = python('rfc9421', `${demo.url}/whoami`, join(dir, 'ed.key'), 'py-ed');
      expect(res).toEqual({
        status: 200,
        body: { username: 'alice', keyId: 'py-ed', method: 'http-signature-rfc9421', roles: ['reader'] },
      });
    });

    it('a Mastodon-style Cavage POST (Signature header, hs2019 RSA, Digest, activity+json) gets 200 from /echo', () => {
      const note = JSON.stringify({ type: 'Create', object: { type: 'Note', content: 'hello' } });
      const res = python('cavage-post', `${demo.url}/echo`, join(dir, 'rsa.key'), MASTODON_KEY_ID, note);
      expect(res).toEqual({ status: 200, body: JSON.parse(note) });
    });

    it('the same request signed by our CLI gets 200 too', () => {
      const out = execFileSync(
        process.execPath,
        [
          join(REPO, 'dist/src/cli/main.js'),
          'request',
          'GET',
          `${demo.url}/whoami`,
          '--key',
          join(dir, 'ed.key'),
          '--key-id',
          'py-ed',
        ],
        {
          encoding: 'utf8',
        },
      );
      expect(JSON.parse(out)).toMatchObject({ username: 'alice', method: 'http-signature-rfc9421' });
    });
  },
);
