import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import request from 'supertest';
import { signRequest } from '../../src/client';
import { SecurityContext } from '../../src';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { testKey } from '../support/keys';
import { seedClaims, sign } from '../support/tokens';

/*
 * KeypairAuthGuard calls each strategy's function directly; the same strategies
 * stay ordinary Passport strategies. Through @nestjs/passport's AuthGuard they
 * must decide exactly as the guard does: same context, same refusals.
 */
@Controller('passport')
class PassportProbeController {
  @Get('jwt')
  @UseGuards(AuthGuard('keypair-jwt'))
  jwt(@Req() req: { user?: unknown }): unknown {
    return { isContext: req.user instanceof SecurityContext, ...(req.user as SecurityContext).toJSON() };
  }

  @Get('signature')
  @UseGuards(AuthGuard('keypair-http-signature'))
  signature(@Req() req: { user?: unknown }): unknown {
    return { isContext: req.user instanceof SecurityContext, ...(req.user as SecurityContext).toJSON() };
  }
}

describe.each(ADAPTERS)('the strategies through Passport (AuthGuard) on %s', (adapter) => {
  let t: TestApp;
  const ed = testKey('ed25519', 0);

  beforeAll(async () => {
    t = await createTestApp({ adapter, database: 'sqlite', controllers: [PassportProbeController] });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed', roles: ['reader'] });
  });
  afterAll(() => t.close());

  it('keypair-jwt: the same SecurityContext as the guard, and a replay refused', async () => {
    const token = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
    const ok = await request(t.server).get('/passport/jwt').set('Authorization', `JWT ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      isContext: true,
      username: 'alice',
      keyId: 'alice-ed',
      method: 'jwt',
      roles: ['reader'],
    });
    const again = await request(t.server).get('/passport/jwt').set('Authorization', `JWT ${token}`);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'REPLAYED' });
    const forged = `${token.slice(0, -4)}AAAA`;
    const bad = await request(t.server).get('/passport/jwt').set('Authorization', `JWT ${forged}`);
    expect({ status: bad.status, code: bad.body.code }).toEqual({
      status: 401,
      code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
    });
  });

  it('keypair-http-signature: an RFC 9421 request accepted once', async () => {
    const url = `${t.server}/passport/signature`;
    const { headers } = signRequest({ method: 'GET', url }, { privateKey: ed.privateKey, keyId: 'alice-ed' });
    const ok = await request(url).get('').set(headers);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ isContext: true, username: 'alice', method: 'http-signature-rfc9421' });
    const again = await request(url).get('').set(headers);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'REPLAYED' });
  });
});

/*
 * Two apps in one process, each with its own origin and key table: through AuthGuard each
 * decides with its own module instance (the global passport delegates by HTTP server),
 * whichever was built last, and one closing leaves the other working.
 */
describe.each(ADAPTERS)('two apps in one process through AuthGuard, on %s', (adapter) => {
  const apps: Record<'a' | 'b', TestApp> = {} as never;
  const keys = { a: testKey('ed25519', 0), b: testKey('ed25519', 1) };
  const origins = { a: 'https://a.example.test', b: 'https://b.example.test' };

  beforeAll(async () => {
    for (const name of ['a', 'b'] as const) {
      const t = await createTestApp({
        adapter,
        database: 'sqlite',
        controllers: [PassportProbeController],
        options: { origin: origins[name] },
      });
      const alice = await t.addUser('alice', ['reader']);
      await t.registry.register(alice, keys[name].publicPem, { keyId: 'alice' });
      apps[name] = t;
    }
  });
  afterAll(async () => {
    await apps.a?.close();
    await apps.b?.close();
  });

  const jwt = async (app: 'a' | 'b', key: 'a' | 'b') => {
    const token = await sign(keys[key].privateKey, { alg: 'EdDSA', kid: 'alice' }, seedClaims('alice'));
    return request(apps[app].server).get('/passport/jwt').set('Authorization', `JWT ${token}`);
  };
  const signed = (app: 'a' | 'b', origin: 'a' | 'b') => {
    const { headers } = signRequest(
      { method: 'GET', url: `${origins[origin]}/passport/signature` },
      { privateKey: keys[app].privateKey, keyId: 'alice' },
    );
    return request(apps[app].server).get('/passport/signature').set(headers);
  };
  const outcome = (res: request.Response) => ({ status: res.status, code: res.body.code as unknown });
  const refused = { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' };

  it('each accepts its own key and origin, and refuses the other app’s', async () => {
    for (const [app, other] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      expect((await jwt(app, app)).status).toBe(200);
      expect(outcome(await jwt(app, other))).toEqual(refused);
      expect((await signed(app, app)).status).toBe(200);
      expect(outcome(await signed(app, other))).toEqual(refused);
    }
  });

  it('the app left running keeps deciding with its own instance when the other closes', async () => {
    await apps.b.close();
    delete (apps as Partial<typeof apps>).b;
    expect((await jwt('a', 'a')).status).toBe(200);
    expect(outcome(await jwt('a', 'b'))).toEqual(refused);
  });
});
