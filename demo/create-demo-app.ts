import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { RawServerDefault } from 'fastify';
import { addKeypairAuthSecuritySchemes } from '../src';
import { KeypairAuthWsAdapter } from '../src/websockets';
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
    // Parsed by Fastify's own JSON parser (it refuses __proto__ keys); the raw bytes stay on the
    // request for digests. application/json is in the list because a first useBodyParser() call
    // stops Nest from installing its raw-body JSON parser: without it a signed JSON POST (to
    // /echo, /transfers or /graphql) had no raw body on Fastify and was refused.
    const parseJson = fastify.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
    fastify.useBodyParser<RawServerDefault>(
      ['application/json', 'application/activity+json', 'application/ld+json'],
      undefined,
      (req, body, done) => parseJson(req, body.toString('utf8'), done),
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
  // The `/ws` gateway's handshake is authenticated by the module, before the socket opens.
  app.useWebSocketAdapter(new KeypairAuthWsAdapter(app));
  app.enableShutdownHooks();
  return app;
}
