import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createDemoApp } from './create-demo-app';
import { readDemoEnvironment } from './demo-environment';
import { demoSigningKey, DemoSigningKey } from './demo-signing-key';
import { checkCanListen } from './listen-check';
import { CRAWLER_ACCOUNT, ensureCrawlerAccount } from './web-bot-auth-environment';

function logServerKey(logger: Logger, key: DemoSigningKey): void {
  if (key.origin === 'supplied') {
    logger.log(`server key ${key.keyId} from SERVER_KEY_FILE ${key.file}`);
    return;
  }
  const how = key.origin === 'created' ? 'created' : 'reused';
  logger.warn(
    `server key ${key.keyId}: a DEVELOPMENT key, ${how} in ${key.file} (mode 0600). ` +
      'It signs access tokens and responses; in production set SERVER_KEY_FILE to your own key.',
  );
}

async function main(): Promise<void> {
  // Every setting is checked before anything is written (the development key) or opened:
  // its form, the sqlite: target, and that HOST:PORT can be bound. Only what needs a server
  // (PostgreSQL, Redis) is found out after (docs/demo.md, "What the demo checks").
  const settings = readDemoEnvironment(process.env);
  await checkCanListen(settings.host, settings.port);
  const logger = new Logger('Demo');
  const serverKey = demoSigningKey(process.env, settings.database);
  logServerKey(logger, serverKey);
  const app = await createDemoApp({
    databaseUrl: settings.databaseUrl,
    redisUrl: process.env.REDIS_URL,
    origin: settings.origin,
    serverKey: { keyId: serverKey.keyId, privateKey: serverKey.privateKey },
    adapter: settings.adapter,
    webBotAuth: settings.webBotAuth,
  });
  if (settings.webBotAuth) {
    await ensureCrawlerAccount(app);
    logger.log(
      `Web Bot Auth: agents ${settings.webBotAuth.agents.map((a) => a.origin).join(', ')} act as ${CRAWLER_ACCOUNT} (role reader)`,
    );
  }
  await app.listen(settings.port, settings.host);
  // PORT=0 picks a free port: log the one the server got.
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  logger.log(
    `listening on http://${host}:${port} (${settings.adapter}); OpenAPI at /docs, ` +
      'token API at /auth/*, JWKS at /.well-known/jwks.json',
  );
}

/** Errors whose message says what to set: printed alone, without a stack. */
const EXPLAINED = ['DemoSigningKeyError', 'DemoEnvironmentError'];

main().catch((error: unknown) => {
  console.error(error instanceof Error && EXPLAINED.includes(error.name) ? error.message : error);
  process.exit(1);
});
