import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createDemoApp, HttpAdapterName } from './create-demo-app';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const adapter = (process.env.HTTP_ADAPTER ?? 'express') as HttpAdapterName;
  const app = await createDemoApp({
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    origin: process.env.PUBLIC_ORIGIN,
    adapter,
  });
  await app.listen(port, host);
  new Logger('Demo').log(`listening on http://${host}:${port} (${adapter}); OpenAPI at /docs`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
