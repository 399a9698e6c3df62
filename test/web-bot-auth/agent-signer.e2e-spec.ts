import { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { spawn } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  type webcrypto,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, request as httpRequest, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify as httpsigVerify } from 'http-message-sig';
import { calculateJwkThumbprint } from 'jose';
import { jwkToKeyID, verify as webBotAuthVerify } from 'web-bot-auth';
import { dataSourceOptionsFromUrl, KeypairAuthConfigurationError, KeypairAuthModule } from '../../src';
import { signWebBotAuthRequest, signWebBotAuthRequestAsync, webBotAuthDirectory } from '../../src/client';
import { keySignerFor } from '../../src/client/key-signer';
import { buildWebBotAuthHeaders } from '../../src/client/web-bot-auth-signer';
import { HttpMessageView, parseRfc9421 } from '../../src/http-signatures';
import { verifyRfc9421Signature } from '../../src/http-signatures/rfc9421/verifier';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { signWithAlgorithm, verifyWithAlgorithm } from '../../src/keys/key-algorithm';
import { signedDirectoryResponse } from '../../src/web-bot-auth/directory-response';
import {
  DIRECTORY_MEDIA_TYPE,
  DIRECTORY_PATH,
  DIRECTORY_SIGNATURE_TAG,
} from '../../src/web-bot-auth/web-bot-auth-options';
import { testKey } from '../support/keys';
import { DIST_CLI } from '../support/processes';

import type * as WebBotAuthCrypto from 'web-bot-auth/dist/crypto';

// 'web-bot-auth/crypto' is a subpath of the package's exports map, which the tsconfig's
// moduleResolution ("node") does not read; Jest does, so it is required under its own name.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { helpers, verifierFromJWK } = require('web-bot-auth/crypto') as typeof WebBotAuthCrypto;
type JsonWebKey = webcrypto.JsonWebKey;

const RFC9421 = JSON.parse(readFileSync(join(__dirname, '../fixtures/vectors/rfc9421.json'), 'utf8')) as {
  keys: Record<string, { privateKeyPem: string }>;
};
const DRAFT = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/vectors/web-bot-auth-draft-01.json'), 'utf8'),
) as Record<string, string | number>;

const AGENT = 'https://agent.example';
const TARGET = 'https://api.example.com/articles?page=2';

/** The public JWK a verifier gets from the agent's directory (what webBotAuthDirectory publishes). */
const directoryJwk = (key: KeyObject): JsonWebKey => webBotAuthDirectory([key]).keys[0] as JsonWebKey;

/** Our own core as the verifier: parse, rebuild the base, verify with the key's algorithm. */
function verifiesWithCore(view: HttpMessageView, publicKey: KeyObject): Record<string, unknown> {
  const [entry] = parseRfc9421(view);
  const algorithm = entry.params.alg as Parameters<typeof verifyWithAlgorithm>[0];
  const ok = verifyRfc9421Signature(view, entry, (base, sig) =>
    verifyWithAlgorithm(algorithm, publicKey, base, sig),
  );
  expect(ok).toBe(true);
  return { ...entry.params, covered: entry.components.map((c) => c.identifier) };
}

describe("Web Bot Auth agent signer: the draft's test vector and the thumbprint", () => {
  it('reproduces the Ed25519 vector of draft-ietf-webbotauth-httpsig-protocol-01 byte for byte', () => {
    // The vector's expires is a century after created: beyond the public signers' bound, so
    // the builder they share is called directly.
    const privateKey = createPrivateKey(RFC9421.keys[DRAFT.key as string].privateKeyPem);
    const { signed } = buildWebBotAuthHeaders(
      { method: 'GET', url: DRAFT.targetUrl as string },
      {
        agent: 'https://signature-agent.test',
        label: DRAFT.label as string,
        signatureAgentKey: DRAFT.signatureAgentKey as string,
        created: DRAFT.created as number,
        expiresIn: (DRAFT.expires as number) - (DRAFT.created as number),
        nonce: DRAFT.nonce as string,
        components: ['@authority'],
      },
      createPublicKey(privateKey),
      'ed25519',
      (data) => signWithAlgorithm('ed25519', privateKey, data),
    );
    expect(signed.headers['signature-agent']).toBe(DRAFT.signatureAgent);
    expect(signed.headers['signature-input']).toBe(DRAFT.signatureInput);
    expect(signed.headers.signature).toBe(`${DRAFT.label}=:${DRAFT.signatureB64}:`);
    expect(DRAFT.signatureB64).toBe(
      'RdNFx5Bj6au3YgAMQL/RzmUlZE8QZLIaXGRpw985hWnwPfMxT228NMk6ehRS1PSl4e8PhbNZACSanGdhEwYCCg==',
    );
  });

  it.each(['ed25519', 'p256', 'rsa'] as const)(
    "jwkThumbprint equals jose's calculateJwkThumbprint for %s",
    async (type) => {
      const { publicKey } = testKey(type);
      const jwk = publicKey.export({ format: 'jwk' });
      const expected = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]);
      expect(jwkThumbprint(publicKey)).toBe(expected);
      expect(jwkThumbprint(jwk as Record<string, unknown>)).toBe(expected);
      expect(await jwkToKeyID(jwk as JsonWebKey, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE)).toBe(
        expected,
      );
    },
  );

  it('signs what the draft asks: tag, created, expires, a 64-byte nonce, thumbprint keyid, the key algorithm', () => {
    const rsa = testKey('rsa');
    const { headers } = signWebBotAuthRequest(
      { method: 'POST', url: TARGET, body: '{"a":1}', headers: { 'Content-Type': 'application/json' } },
      { privateKey: rsa.privatePem, agent: AGENT, created: 1_800_000_000, expiresIn: 30 },
    );
    expect(headers['signature-agent']).toBe(`sig1="${AGENT}"`);
    expect(headers['content-digest']).toBe(
      `sha-256=:${createHash('sha256').update('{"a":1}').digest('base64')}:`,
    );
    const view: HttpMessageView = {
      method: 'POST',
      authority: 'api.example.com',
      scheme: 'https',
      target: '/articles?page=2',
      rawHeaders: Object.entries(headers).flat(),
    };
    const params = verifiesWithCore(view, rsa.publicKey);
    expect(params).toMatchObject({
      created: 1_800_000_000,
      expires: 1_800_000_030,
      keyid: jwkThumbprint(rsa.publicKey),
      alg: 'rsa-pss-sha512',
      tag: 'web-bot-auth',
      covered: [
        '"@method"',
        '"@authority"',
        '"@path"',
        '"@query"',
        '"content-digest"',
        '"signature-agent";key="sig1"',
      ],
    });
    expect(Buffer.from(params.nonce as string, 'base64')).toHaveLength(64);
  });

  it('refuses a lifetime over a day, an http or path agent, and a Signature-Agent already set', () => {
    const { privatePem } = testKey('ed25519');
    const sign =
      (options: object, headers: Record<string, string> = {}) =>
      () =>
        signWebBotAuthRequest(
          { method: 'GET', url: TARGET, headers },
          { privateKey: privatePem, agent: AGENT, ...options },
        );
    expect(sign({ expiresIn: 86_401 })).toThrow(
      /expiresIn must be a whole number of seconds from 1 to 86400/,
    );
    expect(sign({ expiresIn: 0 })).toThrow(/expiresIn/);
    expect(sign({ agent: 'http://agent.example' })).toThrow(/not an https origin or its directory/);
    expect(sign({ agent: 'https://agent.example/bots' })).toThrow(/not an https origin or its directory/);
    expect(sign({}, { 'Signature-Agent': '"https://evil.example"' })).toThrow(
      /already has a Signature-Agent/,
    );
    expect(sign({ agent: `${AGENT}${DIRECTORY_PATH}` })).not.toThrow();
    const pssOnly = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey;
    expect(sign({ privateKey: pssOnly })).toThrow(/RSA-PSS-only .*\(keypair-auth keygen --type rsa\)/);
  });

  it('signs through an asynchronous KeySigner (ssh-agent path) exactly as with the private key', async () => {
    const key = testKey('ed25519');
    const options = { agent: AGENT, created: 1_800_000_000, nonce: 'n' };
    const direct = signWebBotAuthRequest(
      { method: 'GET', url: TARGET },
      { ...options, privateKey: key.privateKey },
    );
    const viaSigner = await signWebBotAuthRequestAsync(
      { method: 'GET', url: TARGET },
      { ...options, signer: keySignerFor(key.privateKey) },
    );
    expect(viaSigner.headers).toEqual(direct.headers);
  });
});

describe("Cloudflare's web-bot-auth 0.1.3 as the verifier", () => {
  it("Cloudflare's web-bot-auth verifier accepts a request signed by signWebBotAuthRequest", async () => {
    // 'field' and 'legacy' only: see the next test for why 0.1.3 cannot read the -01 member form.
    const cases = [
      ['field', 'ed25519'],
      ['legacy', 'ed25519'],
      ['field', 'rsa'],
    ] as const;
    for (const [form, type] of cases) {
      const key = testKey(type);
      const { headers } = signWebBotAuthRequest(
        { method: 'GET', url: TARGET },
        { privateKey: key.privateKey, agent: AGENT, signatureAgent: form },
      );
      expect(headers['signature-agent']).toBe(form === 'legacy' ? `"${AGENT}"` : `sig1="${AGENT}"`);
      const verifier = await verifierFromJWK(directoryJwk(key.publicKey));
      await expect(webBotAuthVerify(new Request(TARGET, { headers }), verifier)).resolves.toBeUndefined();
      // The verifier does check: another agent in the header, or another authority, fails.
      const swapped = {
        ...headers,
        'signature-agent': headers['signature-agent'].replace(AGENT, 'https://evil.example'),
      };
      await expect(webBotAuthVerify(new Request(TARGET, { headers: swapped }), verifier)).rejects.toThrow(
        /invalid signature/,
      );
      await expect(
        webBotAuthVerify(new Request('https://other.example.com/articles?page=2', { headers }), verifier),
      ).rejects.toThrow(/invalid signature/);
    }
  });

  it('the default -01 member form verifies with our core, and Cloudflare 0.1.3 cannot read it', async () => {
    const key = testKey('ed25519');
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: TARGET },
      { privateKey: key.privateKey, agent: AGENT },
    );
    verifiesWithCore(
      {
        method: 'GET',
        scheme: 'https',
        authority: 'api.example.com',
        target: '/articles?page=2',
        rawHeaders: Object.entries(headers).flat(),
      },
      key.publicKey,
    );
    // http-message-sig 0.2.0 builds the line of "signature-agent";key="sig1" from the WHOLE
    // field value (sig1="https://…") instead of the member's value ("https://…") as RFC 9421
    // §2.1.2 says, so its base differs from every correct signer's: that is why the interop
    // tests use the 'field' and 'legacy' forms, and why the default stays the draft's form.
    const verifier = await verifierFromJWK(directoryJwk(key.publicKey));
    await expect(webBotAuthVerify(new Request(TARGET, { headers }), verifier)).rejects.toThrow(
      /invalid signature/,
    );
  });
});

/** GET over real HTTP with any Host header (fetch cannot set one); the body as the bytes received. */
function get(
  url: string,
  host?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: host ? { host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const ORIGIN = 'https://bots.example.org';

async function directoryApp(
  adapter: 'express' | 'fastify',
  options: Record<string, unknown>,
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot({ webBotAuthDirectory: true, ...options }),
    ],
  }).compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter())
      : moduleRef.createNestApplication();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}${DIRECTORY_PATH}` };
}

describe.each(['express', 'fastify'] as const)('our directory on %s', (adapter) => {
  const key = testKey('ed25519', 1);
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await directoryApp(adapter, {
      origin: ORIGIN,
      responseSigning: { keys: [{ keyId: 'server-1', privateKey: key.privatePem }] },
    }));
  });
  afterAll(() => app.close());

  it("Cloudflare's http-message-sig verifies our directory's signature", async () => {
    for (const host of [undefined, 'attacker.example']) {
      const res = await get(url, host);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(DIRECTORY_MEDIA_TYPE);
      expect(res.headers['content-digest']).toBe(
        `sha-256=:${createHash('sha256').update(res.body).digest('base64')}:`,
      );
      const directory = JSON.parse(res.body.toString('utf8')) as { keys: JsonWebKey[] };
      expect(directory.keys).toHaveLength(1);
      const [jwk] = directory.keys;
      expect(jwk).not.toHaveProperty('d');
      expect(jwk).toMatchObject({
        kty: 'OKP',
        crv: 'Ed25519',
        x: key.publicKey.export({ format: 'jwk' }).x,
        use: 'sig',
      });
      expect((jwk as { kid: string }).kid).toBe(
        await jwkToKeyID(jwk, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE),
      );
      const input = String(res.headers['signature-input']);
      expect(input).toMatch(
        /^binding0=\("@authority";req "content-digest"\);created=\d+;keyid="[^"]+";alg="ed25519";expires=\d+;tag="http-message-signatures-directory"$/,
      );
      expect(input).toContain(`tag="${DIRECTORY_SIGNATURE_TAG}"`);
      const verifyWithJwk = await verifierFromJWK(jwk);
      // http-message-sig hands every parameter over; the key is the one the keyid names.
      const verifier: Parameters<typeof httpsigVerify<void>>[1] = (data, signature, params) => {
        expect(params).toMatchObject({ keyid: (jwk as { kid: string }).kid, tag: DIRECTORY_SIGNATURE_TAG });
        return verifyWithJwk(data, signature, params as Parameters<typeof verifyWithJwk>[2]);
      };
      const response = { status: res.status, headers: res.headers as Record<string, string> };
      // The request the verifier made: to the configured origin. Whatever Host header was
      // sent, the signature names the origin's authority.
      const pair = (origin: string) => ({
        request: { method: 'GET', url: `${origin}${DIRECTORY_PATH}`, headers: {} },
        response,
      });
      await expect(httpsigVerify(pair(ORIGIN), verifier)).resolves.toBeUndefined();
      await expect(httpsigVerify(pair(`https://${host ?? '127.0.0.1'}`), verifier)).rejects.toThrow(
        /invalid signature/,
      );
      // A body swapped under the same signature fails the digest the signature covers.
      const forged = { ...response, headers: { ...response.headers, 'content-digest': 'sha-256=:AAAA:' } };
      await expect(
        httpsigVerify({ request: pair(ORIGIN).request, response: forged }, verifier),
      ).rejects.toThrow(/invalid signature/);
    }
  });
});

describe('our directory beside the response signer', () => {
  it('keeps its own signatures and bytes with signAllResponses', async () => {
    const key = testKey('ed25519', 4);
    const { app, url } = await directoryApp('express', {
      signAllResponses: true,
      origin: ORIGIN,
      responseSigning: { keys: [{ keyId: 'server-1', privateKey: key.privatePem }] },
    });
    try {
      const res = await get(url);
      expect(res.headers['content-type']).toBe(DIRECTORY_MEDIA_TYPE);
      expect(String(res.headers['signature-input'])).toMatch(
        /^binding0=\("@authority";req "content-digest"\)/,
      );
      const [jwk] = (JSON.parse(res.body.toString('utf8')) as { keys: JsonWebKey[] }).keys;
      const verifier = await verifierFromJWK(jwk);
      await expect(
        httpsigVerify(
          {
            request: { method: 'GET', url: `${ORIGIN}${DIRECTORY_PATH}`, headers: {} },
            response: { status: 200, headers: res.headers as Record<string, string> },
          },
          (data, signature, params) => verifier(data, signature, params as Parameters<typeof verifier>[2]),
        ),
      ).resolves.toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('the directory endpoint refuses to start misconfigured', () => {
  it.each([
    [
      'without origin',
      { responseSigning: { keys: [{ keyId: 's', privateKey: testKey('ed25519').privatePem }] } },
      /origin is not set.*Set origin: 'https:\/\/api\.example\.com'/s,
    ],
    ['without server keys', { origin: ORIGIN }, /no server keys.*responseSigning: \{ keys:/s],
  ])('%s: KeypairAuthConfigurationError naming the fix', async (_name, options, message) => {
    const started = directoryApp('express', options);
    await expect(started).rejects.toThrow(KeypairAuthConfigurationError);
    await expect(started).rejects.toThrow(message);
  });

  it('signedDirectoryResponse signs one binding per key, the directory having no private member', () => {
    const keys = [testKey('ed25519', 2), testKey('p256', 0)].map((k, i) => ({
      privateKey: k.privateKey,
      publicKey: k.publicKey,
      algorithm: i === 0 ? ('ed25519' as const) : ('ecdsa-p256-sha256' as const),
    }));
    // The first key listed again (a second keyId for the same key) is published once.
    const { body, headers } = signedDirectoryResponse(
      [...keys, { ...keys[0] }],
      'bots.example.org',
      1_800_000_000_000,
      600,
    );
    const directory = JSON.parse(body.toString()) as { keys: Record<string, unknown>[] };
    expect(directory.keys.map((k) => k.kid)).toEqual(keys.map((k) => jwkThumbprint(k.publicKey)));
    expect(directory.keys.every((k) => !('d' in k))).toBe(true);
    const response: HttpMessageView = { status: 200, rawHeaders: Object.entries(headers).flat() };
    const request: HttpMessageView = {
      method: 'GET',
      scheme: 'https',
      authority: 'bots.example.org',
      target: DIRECTORY_PATH,
      rawHeaders: [],
    };
    const entries = parseRfc9421(response);
    expect(entries.map((e) => [e.label, e.params.created, e.params.expires])).toEqual([
      ['binding0', 1_800_000_000, 1_800_000_600],
      ['binding1', 1_800_000_000, 1_800_000_600],
    ]);
    entries.forEach((entry, i) => {
      const verify = (authority: string) =>
        verifyRfc9421Signature(
          response,
          entry,
          (base, sig) => verifyWithAlgorithm(keys[i].algorithm, keys[i].publicKey, base, sig),
          { ...request, authority },
        );
      expect([verify('bots.example.org'), verify('evil.example')]).toEqual([true, false]);
    });
  });
});

describe('keypair-auth request --web-bot-auth', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  /** Another origin a redirect points to: it must never receive the agent's signature. */
  let elsewhere: Server;
  let elsewhereBase = '';
  const elsewhereSeen: IncomingHttpHeaders[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kpa-wba-cli-'));
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      if (req.url === '/moved') {
        res.writeHead(302, { Location: `${elsewhereBase}/landing` }).end();
        return;
      }
      res.end('captured');
    });
    elsewhere = createServer((req, res) => {
      elsewhereSeen.push(req.headers);
      res.end('elsewhere');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    elsewhereBase = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await new Promise((r) => elsewhere.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [DIST_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('the CLI signs a request as a Web Bot Auth agent', async () => {
    const key = testKey('ed25519', 3);
    const keyFile = join(dir, 'agent.key');
    writeFileSync(keyFile, key.privatePem, { mode: 0o600 });
    const r = await cli([
      'request',
      'POST',
      `${base}/inbox?x=1`,
      '--key',
      keyFile,
      '-d',
      '{"hello":"world"}',
      '--web-bot-auth',
      AGENT,
    ]);
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, 'captured', '']);
    const [req] = seen;
    expect(req.headers['signature-agent']).toBe(`sig1="${AGENT}"`);
    const params = verifiesWithCore(
      {
        method: req.method,
        scheme: 'http',
        authority: new URL(base).host,
        target: req.url,
        rawHeaders: Object.entries(req.headers).flatMap(([n, v]) => [n, String(v)]),
      },
      key.publicKey,
    );
    expect(params).toMatchObject({
      keyid: jwkThumbprint(key.publicKey),
      alg: 'ed25519',
      tag: 'web-bot-auth',
      covered: [
        '"@method"',
        '"@authority"',
        '"@path"',
        '"@query"',
        '"content-digest"',
        '"signature-agent";key="sig1"',
      ],
    });
    expect((params.expires as number) - (params.created as number)).toBe(60);
    expect(req.headers['content-digest']).toBe(
      `sha-256=:${createHash('sha256').update('{"hello":"world"}').digest('base64')}:`,
    );
    const refused = await cli([
      'request',
      'GET',
      `${base}/x`,
      '--key',
      keyFile,
      '--web-bot-auth',
      'http://agent.example',
    ]);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringMatching(/--web-bot-auth: agent "http:\/\/agent\.example" is not an https origin/),
    ]);
    expect(seen).toHaveLength(1);
    // The directory the agent hosts, for the same key: kid = the keyid the request carried.
    const printed = await cli(['web-bot-auth', 'directory', '--key', keyFile]);
    expect(printed.code).toBe(0);
    const directory = JSON.parse(printed.stdout) as { keys: Record<string, unknown>[] };
    expect(directory.keys).toEqual([
      { ...key.publicKey.export({ format: 'jwk' }), kid: params.keyid, alg: 'EdDSA', use: 'sig' },
    ]);
  });

  it('the CLI does not follow a redirect with the agent signature: the 3xx is printed, the other origin gets nothing', async () => {
    const keyFile = join(dir, 'agent-redirect.key');
    writeFileSync(keyFile, testKey('ed25519', 3).privatePem, { mode: 0o600 });
    const r = await cli(['request', 'GET', `${base}/moved`, '--key', keyFile, '--web-bot-auth', AGENT, '-i']);
    expect(r.stdout).toMatch(/^HTTP 302/);
    expect(elsewhereSeen).toEqual([]);
  });
});
