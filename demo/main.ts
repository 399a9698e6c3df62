import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createDemoApp, HttpAdapterName } from './create-demo-app';
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
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const adapter = (process.env.HTTP_ADAPTER ?? 'express') as HttpAdapterName;
  const logger = new Logger('Demo');
  const serverKey = demoSigningKey(process.env);
  logServerKey(logger, serverKey);
  const app = await createDemoApp({
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    origin: process.env.PUBLIC_ORIGIN,
    serverKey: { keyId: serverKey.keyId, privateKey: serverKey.privateKey },
    adapter,
  });
  await app.listen(port, host);
  logger.log(
    `listening on http://${host}:${port} (${adapter}); OpenAPI at /docs, ` +
      'token API at /auth/*, JWKS at /.well-known/jwks.json',
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error && error.name === 'DemoSigningKeyError' ? error.message : error);
  process.exit(1);
});
