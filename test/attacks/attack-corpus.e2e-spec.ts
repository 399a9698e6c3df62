import { Logger } from '@nestjs/common';
import { signRequest } from '../../src/client';
import type { AuthUser, AuthUserDirectory } from '../../src';
import { createRedisClient, RedisReplayStore } from '../../src/redis';
import { haveService, REDIS_URL } from '../setup/services';
import { send, SendResult } from '../support/certificates';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { AdapterName, ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { AttackCase, AttackRecorder, judge } from './attack-harness';
import { AttackEnv, corpusPki, createAttackEnv } from './attack-env';
import { CERTIFICATE_CASES } from './certificate.cases';
import { GUARANTEE_CASES } from './guarantee.cases';
import { GUARANTEE_TOKEN_CASES } from './guarantee-tokens.cases';
import { ESCALATION_CASES, JWT_CASES } from './jwt.cases';
import { CAVAGE_CASES, RFC9421_CASES } from './signature.cases';
import { TOKEN_CASES } from './token.cases';
import { TRANSPORT_CASES } from './transport.cases';
import { ATTACK_SUITES } from './suites';

/**
 * The attack corpus: every case is an attack on the authentication path with the
 * exact refusal it must get (status and code). A case passes only with that answer:
 * never a 2xx, never a 5xx, never another code. Run with `npm run test:attacks`; the
 * last line printed is the summary, e.g. `attacks: 90 cases, 90 refused as expected, 0 unexpected`.
 */
const CASES: AttackCase<AttackEnv>[] = [
  ...JWT_CASES,
  ...ESCALATION_CASES,
  ...RFC9421_CASES,
  ...CAVAGE_CASES,
  ...CERTIFICATE_CASES,
  ...TOKEN_CASES,
  ...GUARANTEE_TOKEN_CASES,
  ...TRANSPORT_CASES,
  ...GUARANTEE_CASES,
];

const recorder = new AttackRecorder();

afterAll(async () => {
  process.stdout.write(`\n${recorder.summary().join('\n')}\n`);
  await (await corpusPki()).pki.cleanup();
});

it('names every case once', () => {
  const names = [...CASES, ...ATTACK_SUITES.flatMap((s) => s.cases)].map((c) => c.name);
  expect(new Set(names).size).toBe(names.length);
  expect(names.length).toBeGreaterThanOrEqual(60);
});

/**
 * Runs `cases` against an environment made by `setup` on each adapter, records every
 * outcome under `where` and checks that refusing them logged no unexpected error.
 */
function runCases<Env extends { t: TestApp }>(
  label: string,
  setup: (adapter: AdapterName) => Promise<Env>,
  teardown: (env: Env) => Promise<void>,
  cases: readonly AttackCase<Env>[],
): void {
  describe.each(ADAPTERS)(`${label} on %s`, (adapter) => {
    let env: Env;
    const where = label === 'attack corpus' ? adapter : `${label}, ${adapter}`;

    beforeAll(async () => {
      env = await setup(adapter);
    }, 60_000);
    afterAll(async () => {
      if (env) await teardown(env);
    });
    // Nest's logger is process-global: a case that builds an app of its own (a refusal to
    // start) takes it over. Each case logs to this environment's logger again.
    beforeEach(() => {
      if (env) Logger.overrideLogger(env.t.logs);
    });

    it.each(
      cases.filter((c) => !c.adapters || c.adapters.includes(adapter)).map((c) => [c.name, c] as const),
    )('%s', async (_name, attack) => {
      let res: SendResult;
      try {
        res = await attack.run(env);
      } catch (error) {
        recorder.record({
          name: attack.name,
          where,
          expected: attack.expect,
          status: 0,
          code: 'ERROR',
          ok: false,
        });
        throw error;
      }
      const { ok, code } = judge(attack.expect, res);
      recorder.record({ name: attack.name, where, expected: attack.expect, status: res.status, code, ok });
      expect({ status: res.status, code }).toEqual(attack.expect);
    });

    it('logged no unexpected error while refusing them', () => {
      expect(env.t.logs.entries.filter((e) => e.level === 'error')).toEqual([]);
    });
  });
}

runCases('attack corpus', createAttackEnv, (env) => env.t.close(), CASES);

for (const suite of ATTACK_SUITES)
  runCases(
    suite.name,
    suite.setup as (adapter: AdapterName) => Promise<{ t: TestApp }>,
    suite.teardown as (env: { t: TestApp }) => Promise<void>,
    suite.cases as readonly AttackCase<{ t: TestApp }>[],
  );

/** A user directory with fixed ids, so two apps with their own databases agree on who is who. */
class FixedIdUsers implements AuthUserDirectory {
  private readonly users = new Map<string, AuthUser>();
  async findByUsername(username: string): Promise<AuthUser | null> {
    return [...this.users.values()].find((u) => u.username === username) ?? null;
  }
  async findById(id: string): Promise<AuthUser | null> {
    return this.users.get(id) ?? null;
  }
  async create(username: string, roles: string[]): Promise<AuthUser> {
    const user = { id: `user-${username}`, username, roles, active: true };
    this.users.set(user.id, user);
    return user;
  }
}

const REDIS_CASES = ['jwt/replay-across-instances', 'rfc9421/replay-across-instances'];

if (!haveService('redis')) {
  for (const name of REDIS_CASES) recorder.skipped.push({ name, why: 'no Redis at 127.0.0.1:6379' });
  console.warn('SKIPPING the cross-instance replay attacks: they need Redis');
}

(haveService('redis') ? describe : describe.skip)(
  'attack corpus across two instances sharing a RedisReplayStore',
  () => {
    const ORIGIN = 'https://api.example.test';
    const key = testKey('ed25519', 0);
    let a: TestApp;
    let b: TestApp;
    const redis = createRedisClient(REDIS_URL);

    beforeAll(async () => {
      const replayStore = new RedisReplayStore(redis, { prefix: `kpa-test:attacks:${Date.now()}:` });
      [a, b] = await Promise.all(
        (['express', 'fastify'] as const).map((adapter) =>
          createTestApp({
            adapter,
            database: 'sqlite',
            options: { replayStore, users: new FixedIdUsers(), origin: ORIGIN },
          }),
        ),
      );
      for (const t of [a, b])
        await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      redis.disconnect();
    });

    const check = async (
      name: string,
      expect_: { status: number; code: string },
      run: () => Promise<SendResult>,
    ) => {
      const res = await run();
      const { ok, code } = judge(expect_, res);
      recorder.record({
        name,
        where: 'two instances, Redis',
        expected: expect_,
        status: res.status,
        code,
        ok,
      });
      expect({ status: res.status, code }).toEqual(expect_);
    };

    it('jwt/replay-across-instances: a token accepted by one instance is refused by the other', async () => {
      await check(REDIS_CASES[0], { status: 401, code: 'REPLAYED' }, async () => {
        const headers = { authorization: await jwtHeader(key.privateKey, 'alice', 'alice-ed') };
        const first = await send(`${a.server}/probe/whoami`, { headers });
        expect(first.status).toBe(200);
        return send(`${b.server}/probe/whoami`, { headers });
      });
    });

    it('rfc9421/replay-across-instances: a signed request accepted by one instance is refused by the other', async () => {
      await check(REDIS_CASES[1], { status: 401, code: 'REPLAYED' }, async () => {
        const { headers } = signRequest(
          { method: 'GET', url: `${ORIGIN}/probe/whoami` },
          { keyId: 'alice-ed', privateKey: key.privateKey },
        );
        const first = await send(`${b.server}/probe/whoami`, { headers });
        expect(first.status).toBe(200);
        return send(`${a.server}/probe/whoami`, { headers });
      });
    });
  },
);
