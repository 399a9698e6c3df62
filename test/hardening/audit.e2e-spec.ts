import { encodeForwardedCertificate, AuthEvent, CertificateRegistry } from '../../src';
import { createDpopProof, signRequest } from '../../src/client';
import { createTestPki, send, SendResult, TestPki } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';
import { challengeLogin, serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';

/** Every string a log must never contain: private key material, tokens, signatures, nonces, certificates. */
class Secrets {
  private readonly values = new Set<string>();
  privateKey(pem: string): void {
    for (const line of pem.split('\n'))
      if (!line.startsWith('-----') && line.trim().length >= 16) this.add(line.trim());
  }
  add(value: string | undefined): void {
    if (value && value.length >= 16) this.values.add(value);
  }
  /** A JWT: the whole token, its signature segment and its single-use values (nonce, jti). */
  token(token: string): void {
    this.add(token);
    this.add(token.split('.')[2]);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<
      string,
      unknown
    >;
    for (const name of ['nonce', 'jti']) if (typeof claims[name] === 'string') this.add(claims[name]);
  }
  /** A certificate: its PEM body lines and its whole base64 DER (what proxies forward). */
  certificate(pem: string): void {
    this.privateKey(pem);
    this.add(pem.replace(/-----[^-]+-----|\s/g, ''));
  }
  /** The signature bytes of RFC 9421 (`label=:b64:`) and Cavage (`signature="b64"`) headers. */
  signatureHeader(value: string): void {
    for (const m of value.matchAll(/=:([A-Za-z0-9+/=]+):/g)) this.add(m[1]);
    for (const m of value.matchAll(/signature="([A-Za-z0-9+/=]+)"/g)) this.add(m[1]);
  }
  found(text: string): string[] {
    return [...this.values].filter((v) => text.includes(v)).map((v) => `${v.slice(0, 24)}…`);
  }
  get size(): number {
    return this.values.size;
  }
  /** One of the values, to prove found() finds what is there. */
  sample(): string {
    return [...this.values][0];
  }
}

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
}, 30_000);
afterAll(() => pki?.cleanup());

describe.each(ADAPTERS)('audit events on %s', (adapter) => {
  let t: TestApp;
  const events: AuthEvent[] = [];
  const secrets = new Secrets();
  const server = serverKeys();
  const ed = testKey('ed25519', 0);
  const rsa = testKey('rsa', 0);
  const reader = testKey('ed25519', 1);
  const dpopKey = testKey('p256', 0);
  let decisions = 0;
  const started = Date.now();

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: {
        auditLog: 'all',
        onAuthEvent: (event) => void events.push(event),
        responseSigning: { keys: server.keys },
        tokens: {},
        clientCertificate: { format: 'nginx', trustedProxies: ['127.0.0.1'], caBundle: pki.caBundlePath },
      },
    });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
    await t.registry.register(alice, reader.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
    for (const key of [ed, rsa, reader, dpopKey]) secrets.privateKey(key.privatePem);
    for (const key of server.keys)
      secrets.privateKey(key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  });
  afterAll(() => t.close());

  /** One decision: a request, and how many audit events it must make (always one). */
  const decide = async (run: () => Promise<SendResult>): Promise<SendResult> => {
    const before = events.length;
    const res = await run();
    decisions++;
    expect(events.length - before).toBe(1);
    return res;
  };
  const jwt = async (key = ed, kid = 'alice-ed', claims = seedClaims('alice')) => {
    const token = await sign(key.privateKey, { alg: 'EdDSA', kid }, claims);
    secrets.token(token);
    return `JWT ${token}`;
  };
  const signed = (
    method: string,
    path: string,
    options: Parameters<typeof signRequest>[1],
    body?: string,
  ) => {
    const { headers } = signRequest(
      {
        method,
        url: `${t.server}${path}`,
        headers: body ? { 'content-type': 'application/json' } : {},
        body,
      },
      options,
    );
    secrets.signatureHeader(headers.signature ?? '');
    secrets.add(/;nonce="([^"]*)"/.exec(headers['signature-input'] ?? '')?.[1]);
    return headers;
  };

  it('emits one event per decision, successes and failures, with the fields', async () => {
    const ok = (res: SendResult) => expect(res.status).toBe(200);
    ok(
      await decide(async () => send(`${t.server}/probe/whoami`, { headers: { authorization: await jwt() } })),
    );
    ok(
      await decide(() =>
        send(`${t.server}/probe/echo`, {
          method: 'POST',
          headers: signed('POST', '/probe/echo', { keyId: 'alice-ed', privateKey: ed.privateKey }, '{"a":1}'),
          body: '{"a":1}',
        }),
      ),
    );
    const cavage = signed('GET', '/probe/whoami', {
      keyId: 'alice-rsa',
      privateKey: rsa.privateKey,
      format: 'cavage',
    });
    ok(await decide(() => send(`${t.server}/probe/whoami`, { headers: cavage })));

    // A challenge answer at POST /auth/token, then the access token it gave.
    const login = await challengeLogin(t.server, 'alice-ed', ed.privateKey, 'ed25519');
    decisions++;
    expect(login.status).toBe(200);
    secrets.token(login.body.accessToken);
    secrets.add(login.body.refreshToken);
    ok(
      await decide(() =>
        send(`${t.server}/probe/whoami`, { headers: { authorization: `Bearer ${login.body.accessToken}` } }),
      ),
    );

    // POST /auth/token authenticated by a client JWT (TokenRequestGuard): one success event too.
    const exchanged = await decide(async () =>
      send(`${t.server}/auth/token`, {
        method: 'POST',
        headers: { authorization: await jwt(), 'content-type': 'application/json' },
        body: '{}',
      }),
    );
    ok(exchanged);
    secrets.token(exchanged.body.accessToken as string);
    secrets.add(exchanged.body.refreshToken as string);

    const cert = await pki.issue(`audit-${adapter}`);
    await t.app
      .get(CertificateRegistry)
      .register((await t.registry.directory.findByUsername('alice'))!, cert.certPem);
    secrets.privateKey(cert.keyPem);
    secrets.certificate(cert.certPem);
    const certHeaders = [
      ...encodeForwardedCertificate('nginx', cert.certificate),
      'X-SSL-Client-Verify',
      'SUCCESS',
    ];
    ok(await decide(() => send(`${t.server}/probe/whoami`, { headers: certHeaders })));

    // Failures.
    const forged = await jwt(testKey('ed25519', 2), 'alice-ed');
    expect(
      (await decide(() => send(`${t.server}/probe/whoami`, { headers: { authorization: forged } }))).status,
    ).toBe(401);
    const replay = { authorization: await jwt() };
    ok(await decide(() => send(`${t.server}/probe/whoami`, { headers: replay })));
    expect((await decide(() => send(`${t.server}/probe/whoami`, { headers: replay }))).body.code).toBe(
      'REPLAYED',
    );
    const badSig = signed('GET', '/probe/whoami', { keyId: 'alice-ed', privateKey: reader.privateKey });
    expect((await decide(() => send(`${t.server}/probe/whoami`, { headers: badSig }))).status).toBe(401);
    const forbidden = await decide(async () =>
      send(`${t.server}/probe/admin`, { headers: { authorization: await jwt(reader, 'alice-reader') } }),
    );
    expect(forbidden.status).toBe(403);
    expect((await decide(() => send(`${t.server}/probe/whoami`))).body.code).toBe('CREDENTIALS_MISSING');
    const untrusted = await decide(() =>
      send(`${t.server}/probe/whoami`, { headers: certHeaders, localAddress: '127.0.0.3' }),
    );
    expect(untrusted.status).toBe(400);
    const refresh = await decide(() =>
      send(`${t.server}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: 'A'.repeat(43) }),
      }),
    );
    expect(refresh.body.code).toBe('REFRESH_TOKEN_INVALID');
    const proof = await createDpopProof({
      privateKey: dpopKey.privateKey,
      method: 'GET',
      url: `${t.server}/elsewhere`,
    });
    secrets.token(proof);
    const dpop = await decide(() =>
      send(`${t.server}/probe/whoami`, {
        headers: { authorization: `DPoP ${login.body.accessToken}`, dpop: proof },
      }),
    );
    expect(dpop.status).toBe(401);

    // One event per decision: from the hook, and the same events as JSON lines in the log.
    expect(events).toHaveLength(decisions);
    const lines = t.logs.entries
      .filter((e) => e.context === 'KeypairAuth' && e.message.startsWith('{"event":"auth.'))
      .map((e) => JSON.parse(e.message) as AuthEvent);
    expect(lines).toEqual(events);
    expect(
      t.logs.entries.filter((e) => e.level === 'log' && e.message.includes('auth.success')),
    ).toHaveLength(events.filter((e) => e.outcome === 'success').length);

    for (const e of events) {
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(started - 1000);
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.[13]$/);
      expect(e.method).toMatch(/^(GET|POST)$/);
      expect(e.outcome === 'success').toBe(e.code === null);
    }
    const summary = events.map((e) => [
      e.outcome,
      e.authMethod,
      e.keyId ?? e.claimedKeyId,
      e.username,
      e.status,
      e.code,
    ]);
    expect(summary).toEqual([
      ['success', 'jwt', 'alice-ed', 'alice', 200, null],
      ['success', 'http-signature-rfc9421', 'alice-ed', 'alice', 200, null],
      ['success', 'http-signature-cavage', 'alice-rsa', 'alice', 200, null],
      ['success', 'challenge', 'alice-ed', 'alice', 200, null],
      ['success', 'access-token', 'alice-ed', 'alice', 200, null],
      ['success', 'jwt', 'alice-ed', 'alice', 200, null],
      ['success', 'client-certificate', cert.fingerprints.sha256Hex, 'alice', 200, null],
      ['failure', 'jwt', 'alice-ed', null, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID'],
      ['success', 'jwt', 'alice-ed', 'alice', 200, null],
      ['failure', 'jwt', 'alice-ed', null, 401, 'REPLAYED'],
      ['failure', 'http-signature-rfc9421', 'alice-ed', null, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID'],
      ['failure', 'jwt', 'alice-reader', 'alice', 403, 'ROLE_REQUIRED'],
      ['failure', null, null, null, 401, 'CREDENTIALS_MISSING'],
      ['failure', 'client-certificate', null, null, 400, 'CERT_HEADER_UNTRUSTED'],
      ['failure', null, null, null, 401, 'REFRESH_TOKEN_INVALID'],
      ['failure', 'access-token', 'alice-ed', null, 401, 'DPOP_PROOF_INVALID'],
    ]);
    // Failures before authentication say what was claimed, never that it was verified.
    expect(events.filter((e) => e.status === 401).every((e) => e.keyId === null && e.username === null)).toBe(
      true,
    );
  });

  it('never logs a private key, a token or a signature', () => {
    expect(secrets.size).toBeGreaterThan(30);
    expect(secrets.found(`{"reason":"x${secrets.sample()}y"}`)).toHaveLength(1);
    const everything = [
      ...t.logs.entries.map((e) => e.message),
      ...events.map((e) => JSON.stringify(e)),
    ].join('\n');
    expect(secrets.found(everything)).toEqual([]);
  });
});

describe('audit options (express)', () => {
  it("'failures' (the default) logs refusals only; 'none' logs nothing; the hook always gets every decision; a throwing hook changes nothing", async () => {
    const key = testKey('ed25519', 0);
    for (const auditLog of ['failures', 'none'] as const) {
      const seen: string[] = [];
      const t = await createTestApp({
        adapter: 'express',
        database: 'sqlite',
        options: {
          auditLog,
          onAuthEvent: (e) => {
            seen.push(e.outcome);
            throw new Error('hook broke');
          },
        },
      });
      try {
        await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
        const authorization = `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'))}`;
        expect((await send(`${t.server}/probe/whoami`, { headers: { authorization } })).status).toBe(200);
        expect((await send(`${t.server}/probe/whoami`, { headers: { authorization } })).status).toBe(401);
        expect(seen).toEqual(['success', 'failure']);
        const auditLines = t.logs.entries.filter((e) => e.message.startsWith('{"event":"auth.'));
        expect(auditLines.map((e) => e.level)).toEqual(auditLog === 'failures' ? ['warn'] : []);
        expect(t.logs.entries.filter((e) => e.level === 'error').map((e) => e.message)).toEqual([
          'onAuthEvent failed: hook broke',
          'onAuthEvent failed: hook broke',
        ]);
      } finally {
        await t.close();
      }
    }
  });
});
