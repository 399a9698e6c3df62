import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createDemoApp } from './create-demo-app';
import { readDemoEnvironment } from './demo-environment';
import { demoSigningKey, DemoSigningKey } from './demo-signing-key';

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
  // Every setting is checked before anything is written (the development key) or opened.
  const settings = readDemoEnvironment(process.env);
  const logger = new Logger('Demo');
  const serverKey = demoSigningKey(process.env, settings.database);
  logServerKey(logger, serverKey);
  const app = await createDemoApp({
    databaseUrl: settings.databaseUrl,
    redisUrl: process.env.REDIS_URL,
    origin: process.env.PUBLIC_ORIGIN,
    serverKey: { keyId: serverKey.keyId, privateKey: serverKey.privateKey },
    adapter: settings.adapter,
  });
  await app.listen(settings.port, settings.host);
  logger.log(
    `listening on http://${settings.host}:${settings.port} (${settings.adapter}); OpenAPI at /docs, ` +
      'token API at /auth/*, JWKS at /.well-known/jwks.json',
  );
}

/** Errors whose message says what to set: printed alone, without a stack. */
const EXPLAINED = ['DemoSigningKeyError', 'DemoEnvironmentError'];

main().catch((error: unknown) => {
  console.error(error instanceof Error && EXPLAINED.includes(error.name) ? error.message : error);
  process.exit(1);
});
