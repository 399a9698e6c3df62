import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { DemoAppModule, DemoConfig } from './demo-app.module';

export type HttpAdapterName = 'express' | 'fastify';

/** Builds the demo app on either adapter, with raw bodies kept for digest checks and OpenAPI at /docs. */
export async function createDemoApp(
  config: DemoConfig & { adapter?: HttpAdapterName } = {},
): Promise<INestApplication> {
  const module = DemoAppModule.forRoot(config);
  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), {
          rawBody: true,
          logger: ['error', 'warn', 'log'],
        })
      : await NestFactory.create(module, { rawBody: true, logger: ['error', 'warn', 'log'] });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('keypair-auth demo')
      .setDescription('Public-key authentication for NestJS: admin API, self-service keys, whoami.')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  app.enableShutdownHooks();
  return app;
}
