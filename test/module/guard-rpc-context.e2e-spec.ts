import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { HttpException } from '@nestjs/common';
import { KeypairAuthGuard } from '../../src';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { ProbeController } from '../support/probe.controller';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * KeypairAuthGuard reached in an RPC (microservice) execution context, as a global guard is:
 * there is no HTTP request to verify, so it refuses, whatever the message payload is; a
 * primitive payload is refused too, with no unhandled rejection (red team 6).
 */

const READER = testKey('ed25519', 0);

describe('KeypairAuthGuard in an RPC execution context', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ adapter: 'express', database: 'sqlite' });
    await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
      keyId: 'reader-key',
    });
  });
  afterAll(() => t?.close());

  /** The context Nest's microservice runtime builds: [payload, rpc context], type 'rpc'. */
  const rpcContext = (payload: unknown) => {
    const context = new ExecutionContextHost(
      [payload, { pattern: 'probe' }],
      ProbeController,
      ProbeController.prototype.whoami,
    );
    context.setType('rpc');
    return context;
  };

  /** canActivate's outcome, and the unhandled rejections seen while it ran and shortly after. */
  async function activate(payload: unknown): Promise<{ outcome: unknown; unhandled: string[] }> {
    const unhandled: string[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(String(reason));
    process.on('unhandledRejection', onUnhandled);
    try {
      const guard = t.app.get(KeypairAuthGuard);
      const outcome = await guard.canActivate(rpcContext(payload)).then(
        (allowed) => ({ allowed }),
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { outcome, unhandled };
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }

  function expectRefused(outcome: unknown): void {
    expect(outcome).toBeInstanceOf(HttpException);
    const exception = outcome as HttpException;
    expect(exception.getStatus()).toBe(401);
    expect(exception.getResponse()).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
  }

  it.each([
    ['a string', 'hello'],
    ['a number', 42],
  ])(
    'red team 6: an RPC message with %s payload is refused, with no unhandled rejection',
    async (_kind, payload) => {
      const { outcome, unhandled } = await activate(payload);
      expectRefused(outcome);
      expect(unhandled).toEqual([]);
    },
  );

  it('red team 6: an RPC message with an object payload carrying a client JWT in rawHeaders is refused', async () => {
    const payload: Record<string, unknown> = {
      rawHeaders: ['Authorization', await jwtHeader(READER.privateKey, 'reader', 'reader-key')],
      method: 'GET',
      url: '/probe/whoami',
    };
    const { outcome, unhandled } = await activate(payload);
    expectRefused(outcome);
    expect(payload.securityContext).toBeUndefined();
    expect(unhandled).toEqual([]);
  });

  it('an RPC message with an empty object payload is refused, never a TypeError', async () => {
    const { outcome, unhandled } = await activate({});
    expectRefused(outcome);
    expect(unhandled).toEqual([]);
  });

  it('the app still answers HTTP after the refused RPC messages (the process is alive)', async () => {
    const res = await fetch(`${t.server}/probe/whoami`, {
      headers: { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: 'reader', method: 'jwt' });
  });
});
