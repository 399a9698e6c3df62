/**
 * A child process (see optional-swagger.e2e-spec.ts): boots the module with its admin and
 * token APIs, authenticates a request, and reports whether @nestjs/swagger was loaded and
 * what addKeypairAuthSecuritySchemes() did. Prints one JSON line.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { generateKeyPairSync } from 'node:crypto';
import {
  addKeypairAuthSecuritySchemes,
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeyRegistry,
} from '../../../src';
import { jwtHeader } from '../../support/auth';

@Module({
  imports: [
    TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
    KeypairAuthModule.forRoot({
      responseSigning: { keys: [{ keyId: 'srv', privateKey: generateKeyPairSync('ed25519').privateKey }] },
      tokens: {},
      adminApi: true,
      tokenApi: true,
      jwksEndpoint: true,
    }),
  ],
})
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const registry = app.get(KeyRegistry);
  const root = await registry.directory.create!('root', ['admin']);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  await registry.register(root, publicKey.export({ type: 'spki', format: 'pem' }).toString(), {
    keyId: 'root-ed',
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: await jwtHeader(privateKey, 'root', 'root-ed'),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const listed = await call('GET', '/admin/users');
  const created = await call('POST', '/admin/users', { username: 'alice', roles: ['reader'] });
  const invalid = await call('POST', '/admin/users', { username: 'Bob!', roles: [], extra: 1 });
  const anonymous = await fetch(url + '/admin/users');
  let helper: string;
  try {
    const added: string[] = [];
    addKeypairAuthSecuritySchemes({ addSecurity: (name: string) => added.push(name) });
    helper = `added ${added.join(',')}`;
  } catch (error) {
    helper = `threw ${(error as Error).name}: ${(error as Error).message}`;
  }
  await app.close();
  const swaggerLoaded = Object.keys(require.cache).some((file) => file.includes('@nestjs/swagger'));
  console.log(
    JSON.stringify({
      swaggerLoaded,
      listed: listed.status,
      created: created.status,
      invalid: [invalid.status, invalid.body.code],
      anonymous: anonymous.status,
      helper,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
