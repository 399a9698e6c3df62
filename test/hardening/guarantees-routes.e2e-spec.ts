import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  AuthUser,
  AuthUserDirectory,
  KeypairAuthGuard,
  RequireSignature,
  Roles,
  MemoryReplayStore,
  RolesGuard,
} from '../../src';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { send, SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

/*
 * Documented promises that need routes or a directory of their own: an exception in the
 * user directory, RolesGuard alone, @RequireSignature() that tries to loosen the module,
 * a body the app kept no bytes of, and what the audit line keeps of a request.
 */

@Controller('g')
@UseGuards(KeypairAuthGuard)
class GuaranteeController {
  /** Three segments, as Fastify caps a single parameter at 100 characters. */
  @Get('p/:a/:b/:c')
  path(@Param('a') a: string): { length: number } {
    return { length: a.length };
  }

  /** Tries to loosen the module (300 s, nonce required): it must not. */
  @RequireSignature({ maxAgeSeconds: 3600, requireNonce: false })
  @Get('loose')
  loose(): { ok: true } {
    return { ok: true };
  }

  @Post('text')
  @HttpCode(200)
  text(@Body() body: unknown): unknown {
    return { body };
  }
}

/** RolesGuard alone, with no authentication guard before it. */
@Controller('roles-only')
class RolesOnlyController {
  @UseGuards(RolesGuard)
  @Roles('admin')
  @Get()
  adminOnly(): { reached: true } {
    return { reached: true };
  }
}

/** An in-memory directory that can be told to throw, as a buggy custom directory would. */
class ExplodingUsers implements AuthUserDirectory {
  explode = false;
  private readonly users = new Map<string, AuthUser>();
  private check(): void {
    if (this.explode) throw new TypeError('directory broke');
  }
  async findByUsername(username: string): Promise<AuthUser | null> {
    this.check();
    return [...this.users.values()].find((u) => u.username === username) ?? null;
  }
  async findById(id: string): Promise<AuthUser | null> {
    this.check();
    return this.users.get(id) ?? null;
  }
  async create(username: string, roles: string[]): Promise<AuthUser> {
    const user = { id: `user-${username}`, username, roles, active: true };
    this.users.set(user.id, user);
    return user;
  }
}

/** The memory replay store, which can be told to throw what no store should (a bug, not an outage). */
class ExplodingReplayStore extends MemoryReplayStore {
  explode = false;
  override claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    if (this.explode) throw new TypeError('store broke:\r\n{"event":"auth.success","username":"admin"}');
    return super.claim(scope, nonce, ttlMs);
  }
}

const ATTACKER = '127.0.0.3';
const now = () => Math.floor(Date.now() / 1000);

describe.each(ADAPTERS)('documented guarantees on routes of their own, %s', (adapter) => {
  let t: TestApp;
  let aliceId: string;
  const users = new ExplodingUsers();
  const replayStore = new ExplodingReplayStore();
  const ed = testKey('ed25519', 0);
  const forger = testKey('ed25519', 1);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: [GuaranteeController, RolesOnlyController],
      options: { users, replayStore, httpSignature: { requireNonce: true } },
    });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    aliceId = alice.id;
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
  });
  afterAll(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}, localAddress?: string) =>
    send(`${t.server}${path}`, { headers, localAddress });
  const signed = (path: string, options: Partial<Parameters<typeof signRequest>[1]> = {}) =>
    signRequest(
      { method: 'GET', url: `${t.server}${path}` },
      { keyId: 'alice-ed', privateKey: ed.privateKey, ...options },
    ).headers;
  const failuresSince = (n: number) => t.logs.failures().slice(n);
  const answer = (res: SendResult) => [res.status, res.body.code];

  const errorsSince = (n: number) => t.logs.entries.filter((e) => e.level === 'error').slice(n);
  const errorCount = () => t.logs.entries.filter((e) => e.level === 'error').length;
  const goodJwt = () => jwtHeader(ed.privateKey, 'alice', 'alice-ed');

  it('an unexpected exception (a replay store throwing a TypeError) is 401 AUTHENTICATION_FAILED with one error log, never 500', async () => {
    const before = errorCount();
    replayStore.explode = true;
    try {
      const res = await get('/probe/whoami', { authorization: await goodJwt() });
      expect(answer(res)).toEqual([401, 'AUTHENTICATION_FAILED']);
    } finally {
      replayStore.explode = false;
    }
    const errors = errorsSince(before);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('unexpected error during authentication: "TypeError: store broke');
    expect((await get('/probe/whoami', { authorization: await goodJwt() })).status).toBe(200);
  });

  it('a user directory that throws is 503 AUTH_BACKEND_UNAVAILABLE with one error log, never 500 or a pass', async () => {
    expect((await get('/probe/whoami', { authorization: await goodJwt() })).status).toBe(200);
    t.registry.forgetUser(aliceId);
    const before = errorCount();
    users.explode = true;
    try {
      const res = await get('/probe/whoami', { authorization: await goodJwt() });
      expect(answer(res)).toEqual([503, 'AUTH_BACKEND_UNAVAILABLE']);
    } finally {
      users.explode = false;
    }
    const errors = errorsSince(before);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('directory broke');
    expect((await get('/probe/whoami', { authorization: await goodJwt() })).status).toBe(200);
  });

  it('RolesGuard without a SecurityContext refuses (401 CREDENTIALS_MISSING), never reaches the handler', async () => {
    const res = await get('/roles-only');
    expect(answer(res)).toEqual([401, 'CREDENTIALS_MISSING']);
    expect(res.body.reached).toBeUndefined();
  });

  it('@RequireSignature() cannot loosen the module: maxAgeSeconds 3600 still refuses 400 s, requireNonce false still needs a nonce', async () => {
    expect((await get('/g/loose', signed('/g/loose'))).status).toBe(200);
    const old = await get('/g/loose', signed('/g/loose', { created: now() - 400 }));
    expect(answer(old)).toEqual([401, 'TOKEN_EXPIRED']);
    const noNonce = await get('/g/loose', signed('/g/loose', { nonce: false }));
    expect(answer(noNonce)).toEqual([401, 'SIGNATURE_COVERAGE_INSUFFICIENT']);
  });

  it('the audit line keeps no query, at most 200 characters of path and 128 of the claimed key id', async () => {
    const before = t.logs.failures().length;
    const kid = `k${'x'.repeat(499)}`;
    const token = await sign(
      forger.privateKey,
      { alg: 'EdDSA', kid: kid.slice(0, 250) },
      seedClaims('alice'),
    );
    const segment = 'a'.repeat(99);
    const longPath = `/g/p/${segment}/${segment}/${segment}?token=secret-in-query`;
    // A 500-character keyid in a signature: refused as malformed, and the audit keeps 128 of it.
    const withLongKeyId = signed('/probe/whoami?token=secret-in-query', { keyId: kid });
    expect((await get('/probe/whoami?token=secret-in-query', withLongKeyId)).status).toBe(401);
    expect((await get(longPath, { authorization: `JWT ${token}` })).status).toBe(401);
    const events = failuresSince(before) as unknown as { path: string; claimedKeyId: string | null }[];
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event.path).not.toContain('?');
      expect(event.path.length).toBeLessThanOrEqual(200);
      expect(event.claimedKeyId!.length).toBeLessThanOrEqual(128);
      expect(JSON.stringify(event)).not.toContain('secret-in-query');
    }
    expect(events[0].claimedKeyId).toBe(kid.slice(0, 128));
    expect(events[1].path).toBe(`/g/p/${segment}/${segment}/${segment}`.slice(0, 200));
  });

  it('X-Forwarded-For does not change the remoteAddress of the audit event', async () => {
    const before = t.logs.failures().length;
    const res = await get(
      '/probe/whoami',
      {
        authorization: `JWT ${await sign(forger.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'))}`,
        'x-forwarded-for': '10.9.9.9',
        'x-real-ip': '10.9.9.9',
        forwarded: 'for=10.9.9.9',
      },
      ATTACKER,
    );
    expect(res.status).toBe(401);
    const [event] = failuresSince(before) as unknown as { remoteAddress: string }[];
    expect(event.remoteAddress).toMatch(/(^|:)127\.0\.0\.3$/);
  });

  it('a logged reason with CR, LF and quotes stays one JSON line', async () => {
    const before = t.logs.entries.length;
    // Node refuses CR and LF in a header, so they come in where the server decodes them: a JWT
    // header (base64url JSON) whose alg holds CR, LF and quotes, and a Cavage keyId with \".
    const header = Buffer.from(JSON.stringify({ alg: 'x"\r\n{"injected":1}' })).toString('base64url');
    expect((await get('/probe/whoami', { authorization: `JWT ${header}.e30.AA` })).status).toBe(401);
    const cavage =
      'Signature keyId="a\\"b\\"},{\\"injected\\":1",headers="(request-target) host date",signature="AA=="';
    expect(
      (await get('/probe/whoami', { authorization: cavage, date: new Date().toUTCString() })).status,
    ).toBe(401);
    replayStore.explode = true;
    try {
      const res = await get('/probe/whoami', { authorization: await goodJwt() });
      expect(answer(res)).toEqual([401, 'AUTHENTICATION_FAILED']);
    } finally {
      replayStore.explode = false;
    }
    const logged = t.logs.entries.slice(before).filter((e) => e.context === 'KeypairAuth');
    // Every line, the error line of the unexpected exception too, stays one line.
    for (const line of logged) expect(line.message).not.toMatch(/[\r\n]/);
    const lines = logged.filter((e) => e.level === 'warn');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const event = JSON.parse(line.message) as Record<string, unknown>;
      expect(event.event).toBe('auth.failure');
      expect(Object.keys(event)).not.toContain('injected');
    }
    const reasons = lines.map((l) => (JSON.parse(l.message) as { reason: string }).reason);
    expect(reasons.join('')).toContain('"');
    expect(reasons[2]).toMatch(/\r\n/);
  });

  (adapter === 'express' ? it : it.skip)(
    'Express: a signed text/plain body the app kept no bytes of (no parser) is 401 AUTHENTICATION_FAILED, not checked-less',
    async () => {
      const body = 'transfer 100 to mallory';
      const { headers } = signRequest(
        { method: 'POST', url: `${t.server}/g/text`, headers: { 'content-type': 'text/plain' }, body },
        { keyId: 'alice-ed', privateKey: ed.privateKey },
      );
      const before = t.logs.failures().length;
      const res = await send(`${t.server}/g/text`, { method: 'POST', headers, body });
      expect(answer(res)).toEqual([401, 'AUTHENTICATION_FAILED']);
      expect(failuresSince(before).map((f) => f.reason)).toEqual([
        expect.stringContaining('rawBody is not enabled'),
      ]);
    },
  );
});
