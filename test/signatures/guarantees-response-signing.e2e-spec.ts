import { generateKeyPairSync } from 'node:crypto';
import { Controller, Get, NotFoundException, UseGuards } from '@nestjs/common';
import { signRequest } from '../../src/client';
import { KeypairAuthGuard, SignResponse } from '../../src';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { SignedProbeController } from '../support/probe.controller';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/** A signed route that answers 200 or, for `missing`, a 404 thrown by the handler. */
@Controller('gsigned')
@UseGuards(KeypairAuthGuard)
class SignedOutcomeController {
  @SignResponse()
  @Get('found')
  found(): { found: true } {
    return { found: true };
  }

  @SignResponse()
  @Get('missing')
  missing(): never {
    throw new NotFoundException('no such thing');
  }
}

const signatureHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((h) => /^signature(-input)?$/i.test(h));

describe.each(ADAPTERS)('@SignResponse() does not sign error responses, on %s', (adapter) => {
  let t: TestApp;
  const client = testKey('ed25519', 0);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: [SignedProbeController, SignedOutcomeController],
      options: {
        responseSigning: {
          keys: [{ keyId: 'server-1', privateKey: generateKeyPairSync('ed25519').privateKey }],
        },
      },
    });
    const user = await t.addUser('client', ['reader']);
    await t.registry.register(user, client.publicPem, { keyId: 'c1' });
  });
  afterAll(() => t?.close());

  const get = (path: string) =>
    send(`${t.server}${path}`, {
      headers: signRequest(
        { method: 'GET', url: `${t.server}${path}` },
        { keyId: 'c1', privateKey: client.privateKey },
      ).headers,
    });

  it('signs a success (control), but not a 404 thrown by the handler', async () => {
    const ok = await get('/gsigned/found');
    expect(ok.status).toBe(200);
    expect(signatureHeaders(ok.headers).sort()).toEqual(['signature', 'signature-input']);
    const missing = await get('/gsigned/missing');
    expect(missing.status).toBe(404);
    expect(signatureHeaders(missing.headers)).toEqual([]);
  });

  it('does not sign a 401 refusal of the guard', async () => {
    const res = await send(`${t.server}/probe/signed-echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect([res.status, res.body.code]).toEqual([401, 'CREDENTIALS_MISSING']);
    expect(signatureHeaders(res.headers)).toEqual([]);
  });
});
