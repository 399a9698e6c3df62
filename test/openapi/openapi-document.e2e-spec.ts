import { Controller, Get, INestApplication, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import {
  addKeypairAuthSecuritySchemes,
  ApiKeypairAuth,
  AUTH_ERROR_CODES,
  dataSourceOptionsFromUrl,
  KEYPAIR_AUTH_SECURITY_SCHEMES as SCHEMES,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeyRegistry,
} from '../../src';
import { REQUEST_ERROR_STATUS } from '../../src/openapi/documented-errors';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { serverKeys } from '../tokens/token-test-support';

type Operation = {
  summary?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
};
type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, { enum?: string[] }> };

const ERROR_REF = '#/components/schemas/KeypairAuthErrorBody';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** An app's own route, described with the library's decorator. */
@Controller('orders')
@UseGuards(KeypairAuthGuard)
@ApiKeypairAuth()
class OrdersController {
  @Get()
  list(): string[] {
    return [];
  }
}

/** The app of the demo with every library feature on: admin API, self-service, certificates, tokens, JWKS. */
describe('OpenAPI document of the library routes', () => {
  let app: INestApplication;
  let server: string;
  let document: OpenAPIObject;
  const adminKey = testKey('ed25519', 0);
  /** A fresh client JWT of the admin (each is single-use). */
  const admin = () => jwtHeader(adminKey.privateKey, 'root', 'root-ed');

  const operations = (): { path: string; method: string; op: Operation }[] =>
    Object.entries(document.paths)
      .filter(([path]) => path !== '/orders')
      .flatMap(([path, item]) =>
        METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((method) => ({
          path,
          method,
          op: (item as Record<string, Operation>)[method],
        })),
      );
  const op = (method: string, path: string): Operation => {
    const found = (document.paths[path] as Record<string, Operation> | undefined)?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return found;
  };
  const errorSchema = (o: Operation, status: number): Schema | undefined =>
    o.responses[String(status)]?.content?.['application/json']?.schema;
  const codesOf = (o: Operation, status: number): string[] =>
    errorSchema(o, status)?.allOf?.[1]?.properties?.code?.enum ?? [];

  /** A real error answer carries a code the document lists for its operation and status. */
  const documents = (method: string, path: string, res: request.Response, status?: number) => {
    if (status !== undefined)
      expect([path, res.status, res.body.code]).toEqual([path, status, expect.any(String)]);
    expect(res.body.code).toEqual(expect.any(String));
    expect(codesOf(op(method, path), res.status)).toContain(res.body.code);
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
        KeypairAuthModule.forRoot({
          responseSigning: { keys: serverKeys().keys },
          tokens: {},
          clientCertificate: { format: 'rfc9440', trustedProxies: ['loopback'] },
          adminApi: true,
          tokenApi: true,
          jwksEndpoint: true,
        }),
      ],
      controllers: [OrdersController],
    }).compile();
    app = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    server = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    document = SwaggerModule.createDocument(
      app,
      addKeypairAuthSecuritySchemes(new DocumentBuilder().setTitle('test')).build(),
    );
    const registry = app.get(KeyRegistry);
    const root = await registry.directory.create!('root', ['admin']);
    await registry.register(root, adminKey.publicPem, { keyId: 'root-ed' });
  });
  afterAll(() => app?.close());

  it('has a security scheme for each way in', () => {
    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes[SCHEMES.httpSignature]).toMatchObject({ type: 'apiKey', in: 'header', name: 'Signature' });
    expect(schemes[SCHEMES.clientJwt]).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(schemes[SCHEMES.accessToken]).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes[SCHEMES.dpop]).toMatchObject({ type: 'http', scheme: 'DPoP' });
    expect(schemes[SCHEMES.clientCertificate]).toMatchObject({ type: 'apiKey', in: 'header' });
  });

  it('mounts every library route the options turn on', () => {
    const routes = operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(routes.sort()).toEqual(
      [
        'DELETE /admin/certificates/{fingerprint}',
        'DELETE /admin/keys/{keyId}',
        'DELETE /keys/{keyId}',
        'GET /.well-known/jwks.json',
        'GET /admin/users',
        'GET /admin/users/{username}/certificates',
        'GET /admin/users/{username}/keys',
        'GET /keys',
        'PATCH /admin/users/{username}',
        'POST /admin/users',
        'POST /admin/users/{username}/certificates',
        'POST /admin/users/{username}/keys',
        'POST /admin/users/{username}/revoke-tokens',
        'POST /auth/challenge',
        'POST /auth/refresh',
        'POST /auth/revoke',
        'POST /auth/token',
        'POST /keys',
      ].sort(),
    );
  });

  it('gives every operation a summary, a success response and error responses with the error body', () => {
    for (const { path, method, op: o } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, typeof o.summary === 'string' && o.summary.length > 0]).toEqual([where, true]);
      const statuses = Object.keys(o.responses).map(Number);
      expect([where, statuses.some((s) => s >= 200 && s < 300)]).toEqual([where, true]);
      if (path === '/.well-known/jwks.json') {
        // Its one failure is Nest's plain 404 when no server keys are configured.
        expect(o.responses['404'].description).toMatch(/responseSigning\.keys/);
        continue;
      }
      const errors = statuses.filter((s) => s >= 400 && s < 500);
      expect([where, errors.length > 0]).toEqual([where, true]);
      for (const status of statuses.filter((s) => s >= 400)) {
        const schema = errorSchema(o, status);
        expect([where, status, schema?.allOf?.[0]?.$ref]).toEqual([where, status, ERROR_REF]);
        const codes = codesOf(o, status);
        expect([where, status, codes.length > 0]).toEqual([where, status, true]);
        for (const code of codes) {
          const known =
            AUTH_ERROR_CODES[code as keyof typeof AUTH_ERROR_CODES]?.status ??
            REQUEST_ERROR_STATUS[code as keyof typeof REQUEST_ERROR_STATUS];
          expect([where, code, known]).toEqual([where, code, status]);
        }
        expect(o.responses[String(status)].description).toContain(codes[0]);
      }
    }
    expect(document.components?.schemas?.KeypairAuthErrorBody).toMatchObject({
      required: expect.arrayContaining(['statusCode', 'error', 'code', 'message']),
    });
  });

  it('names the ways in each operation accepts', () => {
    const defined = Object.keys(document.components?.securitySchemes ?? {});
    const names = (o: Operation) => (o.security ?? []).map((r) => Object.keys(r).join('+'));
    for (const { op: o } of operations()) {
      for (const requirement of o.security ?? []) {
        for (const name of Object.keys(requirement)) expect(defined).toContain(name);
      }
    }
    const all = Object.values(SCHEMES);
    expect(names(op('get', '/admin/users')).sort()).toEqual([...all].sort());
    expect(names(op('get', '/keys')).sort()).toEqual([...all].sort());
    // Adding a key needs a key proof: an access token (Bearer or DPoP) is refused.
    expect(names(op('post', '/keys')).sort()).toEqual(
      [SCHEMES.httpSignature, SCHEMES.clientJwt, SCHEMES.clientCertificate].sort(),
    );
    // A token request proves a key, or answers a challenge without credentials ({}).
    expect(names(op('post', '/auth/token'))).toEqual(
      expect.arrayContaining([SCHEMES.httpSignature, SCHEMES.clientJwt, SCHEMES.clientCertificate, '']),
    );
    expect(names(op('post', '/auth/token'))).not.toContain(SCHEMES.accessToken);
    for (const path of ['/auth/challenge', '/auth/refresh', '/auth/revoke']) {
      expect(op('post', path).security ?? []).toEqual([]);
    }
    expect(op('get', '/.well-known/jwks.json').security ?? []).toEqual([]);
  });

  it('describes an app route with @ApiKeypairAuth() like the library routes', async () => {
    const orders = op('get', '/orders');
    expect((orders.security ?? []).map((r) => Object.keys(r)[0]).sort()).toEqual(
      Object.values(SCHEMES).sort(),
    );
    expect(errorSchema(orders, 401)?.allOf?.[0]?.$ref).toBe(ERROR_REF);
    documents('get', '/orders', await request(server).get('/orders'));
    expect(
      (
        await request(server)
          .get('/orders')
          .set('Authorization', await admin())
      ).status,
    ).toBe(200);
  });

  it('documents list responses as arrays of the library schemas', () => {
    const ok = op('get', '/admin/users').responses['200'].content?.['application/json'].schema as {
      type?: string;
      items?: { $ref?: string };
    };
    expect(ok).toEqual({ type: 'array', items: { $ref: '#/components/schemas/KeypairAuthUser' } });
  });

  it('documents the token endpoints with request and response schemas', () => {
    const body = (path: string) => op('post', path).requestBody?.content['application/json'].schema.$ref;
    expect(body('/auth/challenge')).toBe('#/components/schemas/KeypairAuthChallengeRequest');
    expect(body('/auth/token')).toBe('#/components/schemas/KeypairAuthTokenRequest');
    expect(body('/auth/refresh')).toBe('#/components/schemas/KeypairAuthRefreshRequest');
    expect(body('/auth/revoke')).toBe('#/components/schemas/KeypairAuthRefreshRequest');
    const ok = (path: string) => op('post', path).responses['200'].content?.['application/json'].schema.$ref;
    expect(ok('/auth/challenge')).toBe('#/components/schemas/KeypairAuthChallenge');
    expect(ok('/auth/token')).toBe('#/components/schemas/KeypairAuthTokenResponse');
    expect(ok('/auth/refresh')).toBe('#/components/schemas/KeypairAuthTokenResponse');
    const schemas = document.components?.schemas ?? {};
    expect(Object.keys(schemas.KeypairAuthTokenRequest).length).toBeGreaterThan(0);
    expect(schemas.KeypairAuthTokenResponse).toMatchObject({
      properties: { accessToken: {}, tokenType: { enum: ['Bearer', 'DPoP'] }, refreshToken: {} },
    });
    // Every library schema carries the prefix, so none replaces an app's own model of the same name.
    for (const name of Object.keys(schemas)) expect(name).toMatch(/^KeypairAuth/);
  });

  it('lists the codes the routes really answer', async () => {
    const post = (path: string) => request(server).post(path);
    documents('get', '/admin/users', await request(server).get('/admin/users'), 401);
    documents(
      'delete',
      '/admin/keys/{keyId}',
      await request(server)
        .delete('/admin/keys/nope')
        .set('Authorization', await admin()),
      404,
    );
    const root = { username: 'root', roles: [] };
    documents(
      'post',
      '/admin/users',
      await post('/admin/users')
        .set('Authorization', await admin())
        .send(root),
      409,
    );
    const notAKey = { publicKey: 'not a key' };
    const registered = await post('/admin/users/root/keys')
      .set('Authorization', await admin())
      .send(notAKey);
    documents('post', '/admin/users/{username}/keys', registered, 400);
    documents('post', '/auth/refresh', await post('/auth/refresh').send({ refreshToken: 'x' }), 401);
    documents('post', '/auth/token', await post('/auth/token').send({}), 401);
    documents('post', '/auth/challenge', await post('/auth/challenge').send({}), 400);
    // An access token may list keys but not add one: 403, documented on POST /keys.
    const login = await post('/auth/token')
      .set('Authorization', await admin())
      .send({});
    const bearer = `Bearer ${login.body.accessToken}`;
    documents('post', '/keys', await post('/keys').set('Authorization', bearer).send(notAKey), 403);
  });
});
