import { execFile } from 'node:child_process';
import { constants, createSign, sign as signBytes } from 'node:crypto';
import { ClientRequest, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as ltoSign } from '@ltonetwork/http-message-signatures';
import { createSigner, httpbis } from 'http-message-signatures';
import { signRequest } from '../../src/client';
import { DEBIAN_PYTHON, haveService } from '../setup/services';
import { testKey } from '../support/keys';
import { REPO } from '../support/processes';
import { createTestApp, TestApp } from '../support/test-app';
import { serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';
import { clientSnippets } from './client-snippets';

/**
 * docs/clients.md: each third-party client's snippet, taken verbatim from the page, runs as
 * its own process (node for `js`, Debian's python3 for `python`) against the real module
 * over real HTTP, with API_URL, KEY_FILE, KEY_ID and API_USER in its environment. It must
 * get 200 as alice; run again with a key the server does not hold (same keyId), 401. The
 * caveats the page states are reproduced below the snippets, with the packages themselves.
 */

const snippets = clientSnippets();

/** Joyent's http-signature ships no types; the one call used here. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpSignature = require('http-signature') as {
  sign(request: ClientRequest, options: { keyId: string; key: string; headers: string[] }): boolean;
};

interface Run {
  status: number;
  body: { username?: string; keyId?: string; method?: string; code?: string };
}

/** Key files the snippets read, registered (or not) on the server. */
const KEYS = {
  ed: { pair: () => testKey('ed25519', 0), keyId: 'alice-ed' },
  rsa: { pair: () => testKey('rsa', 0), keyId: 'alice-rsa' },
  pss: { pair: () => testKey('rsa', 1), keyId: 'alice-pss' },
  'ed-unregistered': { pair: () => testKey('ed25519', 1), keyId: null },
  'rsa-unregistered': { pair: () => testKey('rsa', 2), keyId: null },
} as const;
type KeyName = keyof typeof KEYS;

const CASES: {
  snippet: string;
  key: KeyName;
  wrongKey: KeyName;
  method: string;
}[] = [
  {
    snippet: 'http-message-signatures',
    key: 'ed',
    wrongKey: 'ed-unregistered',
    method: 'http-signature-rfc9421',
  },
  {
    snippet: 'http-message-signatures-pss',
    key: 'pss',
    wrongKey: 'rsa-unregistered',
    method: 'http-signature-rfc9421',
  },
  {
    snippet: 'ltonetwork-http-message-signatures',
    key: 'ed',
    wrongKey: 'ed-unregistered',
    method: 'http-signature-rfc9421',
  },
  { snippet: 'http-signature', key: 'rsa', wrongKey: 'rsa-unregistered', method: 'http-signature-cavage' },
  { snippet: 'jsonwebtoken', key: 'rsa', wrongKey: 'rsa-unregistered', method: 'jwt' },
  { snippet: 'jose', key: 'ed', wrongKey: 'ed-unregistered', method: 'jwt' },
  { snippet: 'pyjwt', key: 'ed', wrongKey: 'ed-unregistered', method: 'jwt' },
  { snippet: 'dpop', key: 'ed', wrongKey: 'ed-unregistered', method: 'access-token' },
];

const havePython = haveService('python');
if (!havePython)
  console.warn('SKIPPING the PyJWT snippet of docs/clients.md: /usr/bin/python3 with python3-jwt not found');

describe('docs/clients.md', () => {
  let t: TestApp;
  let dir: string;
  const url = () => `${t.server}/probe/whoami`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-clients-'));
    // The snippets import their packages as a user's script would: from node_modules next to them.
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: serverKeys().keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['reader']);
    for (const [name, { pair, keyId }] of Object.entries(KEYS)) {
      writeFileSync(join(dir, `${name}.key`), pair().privatePem, { mode: 0o600 });
      if (keyId === null) continue;
      await t.registry.register(alice, pair().publicPem, {
        keyId,
        ...(name === 'pss' ? { algorithm: 'rsa-pss-sha512' as const } : {}),
      });
    }
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs a snippet as its own process (asynchronously: the server answers from this one). */
  function run(name: string, key: KeyName, keyId: string, variant?: (code: string) => string): Promise<Run> {
    const snippet = snippets.get(name);
    if (!snippet) throw new Error(`docs/clients.md has no block marked client-snippet:${name}`);
    const file = join(dir, `${name}${variant ? '-variant' : ''}.${snippet.lang === 'js' ? 'mjs' : 'py'}`);
    writeFileSync(file, variant ? variant(snippet.code) : snippet.code);
    const [command, args] = snippet.lang === 'js' ? [process.execPath, [file]] : [DEBIAN_PYTHON, [file]];
    const env = {
      PATH: process.env.PATH ?? '',
      API_URL: url(),
      KEY_FILE: join(dir, `${key}.key`),
      KEY_ID: keyId,
      API_USER: 'alice',
    };
    return new Promise((resolve, reject) => {
      execFile(
        command,
        args,
        { cwd: dir, env, timeout: 30_000, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error)
            return reject(
              new Error(`${name} (docs/clients.md:${snippet.line}) failed: ${stderr || error.message}`),
            );
          const match = /^(\d{3}) (.*)$/s.exec(stdout.trim());
          if (!match) return reject(new Error(`${name} printed ${JSON.stringify(stdout)}; stderr ${stderr}`));
          resolve({ status: Number(match[1]), body: JSON.parse(match[2]) as Run['body'] });
        },
      );
    });
  }

  it('has a snippet for each client this test runs, and none it does not', () => {
    expect([...snippets.keys()].sort()).toEqual(CASES.map((c) => c.snippet).sort());
  });

  describe.each(CASES)('$snippet', ({ snippet, key, wrongKey, method }) => {
    const maybe = snippet === 'pyjwt' && !havePython ? it.skip : it;
    const keyId = KEYS[key].keyId!;

    maybe('authenticates as alice (200), as written in the page', async () => {
      const res = await run(snippet, key, keyId);
      expect(res).toEqual({
        status: 200,
        body: expect.objectContaining({ username: 'alice', keyId, method }),
      });
    });

    maybe(
      'is refused (401) when it signs with a key the server does not hold, under the same keyId',
      async () => {
        const res = await run(snippet, wrongKey, keyId);
        expect(res.status).toBe(401);
        if (method !== 'access-token') expect(res.body.code).toBe('KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      },
    );
  });

  it('http-signature with an Ed25519 key (it sends algorithm="ed25519-sha512") is accepted (200), another key refused', async () => {
    expect(await run('http-signature', 'ed', KEYS.ed.keyId)).toEqual({
      status: 200,
      body: expect.objectContaining({
        username: 'alice',
        keyId: KEYS.ed.keyId,
        method: 'http-signature-cavage',
      }),
    });
    expect((await run('http-signature', 'ed-unregistered', KEYS.ed.keyId)).status).toBe(401);
  });

  it("dpop with a PS256 proof key (the page's snippet, ES256 swapped for PS256) works end to end", async () => {
    const toPs256 = (code: string) => {
      expect(code).toContain("DPoP.generateKeyPair('ES256')");
      return code.replace("DPoP.generateKeyPair('ES256')", "DPoP.generateKeyPair('PS256')");
    };
    expect(await run('dpop', 'ed', KEYS.ed.keyId, toPs256)).toEqual({
      status: 200,
      body: expect.objectContaining({ username: 'alice', method: 'access-token' }),
    });
  });

  describe('the caveats, reproduced with the packages', () => {
    const get = (headers: Record<string, string>, target = url()) => fetch(target, { headers }).then(asRun);

    it("http-message-signatures: createSigner('rsa-pss-sha512') signs with the maximum salt and is refused; salt 64 passes", async () => {
      const privateKey = KEYS.pss.pair().privateKey;
      const signWith = async (key: Parameters<typeof httpbis.signMessage>[0]['key']) =>
        (
          await httpbis.signMessage(
            {
              key,
              fields: ['@method', '@authority', '@path', '@query'],
              params: ['created', 'keyid', 'alg', 'nonce'],
              paramValues: { nonce: `n-${Math.random()}` },
            },
            { method: 'GET', url: url(), headers: {} },
          )
        ).headers as Record<string, string>;
      const refused = await get(await signWith(createSigner(privateKey, 'rsa-pss-sha512', 'alice-pss')));
      expect([refused.status, refused.body.code]).toEqual([401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
      const salt64 = {
        id: 'alice-pss',
        alg: 'rsa-pss-sha512',
        sign: async (data: Buffer) =>
          createSign('sha512')
            .update(data)
            .sign({ key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }),
      };
      expect((await get(await signWith(salt64))).status).toBe(200);
    });

    it('@ltonetwork/http-message-signatures: @authority is signed as host:port:port on a non-default port, and refused', async () => {
      const port = new URL(t.server).port;
      let base = '';
      const privateKey = KEYS.ed.pair().privateKey;
      const signer = {
        keyid: 'alice-ed',
        alg: 'ed25519',
        sign: (data: string) => {
          base = data;
          return signBytes(null, Buffer.from(data), privateKey);
        },
      };
      const request = { method: 'GET', url: url(), headers: {} as Record<string, string> };
      await ltoSign(request, {
        signer,
        components: ['@method', '@authority', '@path'],
        nonce: `n-${Math.random()}`,
      });
      expect(base).toContain(`"@authority": 127.0.0.1:${port}:${port}\n`);
      const res = await get(request.headers);
      expect([res.status, res.body.code]).toEqual([401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
    });

    it('@ltonetwork/http-message-signatures: @query of a URL without one is signed empty (RFC 9421: "?"), and refused', async () => {
      let base = '';
      const privateKey = KEYS.ed.pair().privateKey;
      const signer = {
        keyid: 'alice-ed',
        alg: 'ed25519',
        sign: (data: string) => {
          base = data;
          return signBytes(null, Buffer.from(data), privateKey);
        },
      };
      const request = { method: 'GET', url: url(), headers: {} as Record<string, string> };
      await ltoSign(request, {
        signer,
        components: ['@method', '@target-uri', '@query'],
        nonce: `n-${Math.random()}`,
      });
      expect(base).toContain('"@query": \n');
      const res = await get(request.headers);
      expect([res.status, res.body.code]).toEqual([401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
    });

    it('http-signature: a P-256 key is sent as ecdsa-sha256 and verifies', async () => {
      const p256 = testKey('p256', 0);
      const alice = await t.registry.directory.findByUsername('alice');
      await t.registry.register(alice!, p256.publicPem, { keyId: 'alice-p256' });
      const res = await new Promise<Run>((resolve, reject) => {
        const req = httpRequest(url(), { method: 'GET' }, (answer) => {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (body += chunk));
          answer.on('end', () =>
            resolve({ status: answer.statusCode!, body: JSON.parse(body) as Run['body'] }),
          );
        });
        req.on('error', reject);
        httpSignature.sign(req, {
          keyId: 'alice-p256',
          key: p256.privatePem,
          headers: ['(request-target)', 'host', 'date'],
        });
        expect(String(req.getHeader('authorization'))).toContain('algorithm="ecdsa-sha256"');
        req.end();
      });
      expect(res).toEqual({
        status: 200,
        body: expect.objectContaining({ keyId: 'alice-p256', method: 'http-signature-cavage' }),
      });
    });

    it('dpop: the snippet with an Ed25519 DPoP key (alg Ed25519) works too', async () => {
      const ed25519 = (code: string) =>
        code.replace("generateKeyPair('ES256')", "generateKeyPair('Ed25519')");
      expect(ed25519(snippets.get('dpop')!.code)).toContain("generateKeyPair('Ed25519')");
      const res = await run('dpop', 'ed', 'alice-ed', ed25519);
      expect(res).toEqual({
        status: 200,
        body: expect.objectContaining({ username: 'alice', method: 'access-token' }),
      });
    });

    it("Misskey's draft mode: a (request-target) without the query is refused when the URL has one", async () => {
      const privateKey = KEYS.rsa.pair().privateKey;
      const signed = signRequest(
        { method: 'GET', url: url() },
        { keyId: 'alice-rsa', privateKey, format: 'cavage' },
      );
      const withQuery = await get(signed.headers, `${url()}?page=2`);
      expect([withQuery.status, withQuery.body.code]).toEqual([401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
      // Without a query it verifies (the refusal above spent nothing, so this is no replay).
      expect((await get(signed.headers)).status).toBe(200);
    });
  });
});

async function asRun(res: Response): Promise<Run> {
  return { status: res.status, body: (await res.json()) as Run['body'] };
}
