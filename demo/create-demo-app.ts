import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { addKeypairAuthSecuritySchemes } from '../src';
import { DemoAppModule, DemoConfig } from './demo-app.module';

export type HttpAdapterName = 'express' | 'fastify';

/** Builds the demo app on either adapter, with raw bodies kept for digest checks and OpenAPI at /docs. */
export async function createDemoApp(
  config: DemoConfig & { adapter?: HttpAdapterName },
): Promise<INestApplication> {
  const module = DemoAppModule.forRoot(config);
  const logger: ('error' | 'warn' | 'log')[] = ['error', 'warn', 'log'];
  let app: INestApplication;
  // Fediverse clients send application/activity+json: parse it as JSON, keeping the raw bytes for digests.
  if (config.adapter === 'fastify') {
    const fastify = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), {
      rawBody: true,
      logger,
    });
    // Parsed as JSON like application/json; the raw bytes stay on the request for digests.
    fastify.useBodyParser(
      ['application/activity+json', 'application/ld+json'],
      undefined,
      (_req, body, done) => {
        try {
          done(null, JSON.parse(body.toString('utf8')) as unknown);
        } catch (error) {
          done(Object.assign(error as Error, { statusCode: 400 }), undefined);
        }
      },
    );
    app = fastify;
  } else {
    const express = await NestFactory.create<NestExpressApplication>(module, { rawBody: true, logger });
    express.useBodyParser('json', {
      type: ['application/json', 'application/activity+json', 'application/ld+json'],
    });
    app = express;
  }
  const document = SwaggerModule.createDocument(
    app,
    addKeypairAuthSecuritySchemes(
      new DocumentBuilder()
        .setTitle('keypair-auth demo')
        .setDescription('Public-key authentication for NestJS: admin API, self-service keys, whoami.'),
    ).build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  app.enableShutdownHooks();
  return app;
}
