import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { signRequest } from '../../src/client';
import type { SecurityContext } from '../../src';
import { jwtHeader } from '../support/auth';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import type { AttackCase } from './attack-harness';
import { attackSuite } from './attack-suite';

/** Routes guarded by @nestjs/passport's AuthGuard with the module's prefixed strategy names. */
@Controller('passport')
class PassportRoutes {
  @Get('jwt')
  @UseGuards(AuthGuard('keypair-jwt'))
  jwt(@Req() req: { user: SecurityContext }): unknown {
    return req.user.toJSON();
  }

  @Get('signature')
  @UseGuards(AuthGuard('keypair-http-signature'))
  signature(@Req() req: { user: SecurityContext }): unknown {
    return req.user.toJSON();
  }
}

/**
 * Two apps in one process, each with its own `origin` and its own key table: `t` (app B,
 * the one attacked) is built first, app A last, so whatever is registered process-wide
 * last belongs to A. B must still decide B's requests with B's keys and B's origin.
 */
interface TwoAppsEnv {
  readonly t: TestApp;
  readonly a: TestApp;
}

const ORIGIN_A = 'https://a.example.test';
const ORIGIN_B = 'https://b.example.test';
const keyA = testKey('ed25519', 0);
const keyB = testKey('ed25519', 1);

const CASES: AttackCase<TwoAppsEnv>[] = [
  {
    name: 'passport/authguard-other-app-key',
    attack: 'a JWT signed with a key registered only in app A, sent to an AuthGuard route of app B',
    request: 'GET B/passport/jwt, Authorization: JWT <signed by A’s alice-ed>',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) =>
      send(`${env.t.server}/passport/jwt`, {
        headers: { authorization: await jwtHeader(keyA.privateKey, 'alice', 'alice-a') },
      }),
  },
  {
    name: 'passport/authguard-other-app-origin',
    attack: 'an RFC 9421 request signed for app A’s origin, by a key both apps trust, sent to app B',
    request: 'GET B/passport/signature, Signature over @authority a.example.test',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const { headers } = signRequest(
        { method: 'GET', url: `${ORIGIN_A}/passport/signature` },
        { keyId: 'shared', privateKey: keyB.privateKey },
      );
      return send(`${env.t.server}/passport/signature`, { headers });
    },
  },
];

export const PASSPORT_SUITE = attackSuite<TwoAppsEnv>({
  name: 'two apps in one process',
  setup: async (adapter: AdapterName) => {
    const b = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { origin: ORIGIN_B },
      controllers: [PassportRoutes],
    });
    const a = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { origin: ORIGIN_A },
      controllers: [PassportRoutes],
    });
    const aliceA = await a.addUser('alice', ['reader']);
    await a.registry.register(aliceA, keyA.publicPem, { keyId: 'alice-a' });
    await a.registry.register(aliceA, keyB.publicPem, { keyId: 'shared' });
    const aliceB = await b.addUser('alice', ['reader']);
    await b.registry.register(aliceB, keyB.publicPem, { keyId: 'shared' });
    return { t: b, a };
  },
  teardown: async (env) => {
    await Promise.all([env.a.close(), env.t.close()]);
  },
  cases: CASES,
});
