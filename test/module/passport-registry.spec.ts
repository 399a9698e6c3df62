import passport from 'passport';
import { KeypairAuthException } from '../../src';
import { KeypairStrategy } from '../../src/guards/keypair-strategy';
import { PassportRegistry } from '../../src/guards/passport-registry';

/** The global passport's view of two module instances in one process. */
describe('PassportRegistry and the global passport', () => {
  const name = 'keypair-registry-spec';
  const registries: PassportRegistry[] = [];
  const servers = [{}, {}];
  afterEach(() => registries.splice(0).forEach((r) => r.close()));

  const instance = (answer: string, server: object) => {
    const registry = new PassportRegistry();
    const entry = { name, claims: () => true, challenge: 'Test' };
    registry.use(entry, new KeypairStrategy(async () => ({ answer }) as never));
    registry.serve(server);
    registries.push(registry);
  };
  const authenticate = (server: object) =>
    new Promise((resolve) => {
      const req = { socket: { server }, headers: {}, rawHeaders: [], method: 'GET', url: '/' };
      passport.authenticate(name, { session: false }, (error: unknown, user: unknown) =>
        resolve(error ?? user),
      )(req, {}, () => resolve('next'));
    });

  it('runs the strategy of the instance serving the request, whichever registered last', async () => {
    instance('first', servers[0]);
    instance('second', servers[1]);
    expect(await authenticate(servers[0])).toEqual({ answer: 'first' });
    expect(await authenticate(servers[1])).toEqual({ answer: 'second' });
  });

  it('is a 401 AUTHENTICATION_FAILED, never a pass or a 500, for a request no running instance serves', async () => {
    instance('first', servers[0]);
    instance('second', servers[1]);
    const error = await authenticate({});
    expect(error).toBeInstanceOf(KeypairAuthException);
    expect((error as KeypairAuthException).getStatus()).toBe(401);
    expect((error as KeypairAuthException).code).toBe('AUTHENTICATION_FAILED');
    // The fix is in the server log, not in the answer.
    expect((error as KeypairAuthException).reason).toMatch(/no running KeypairAuthModule.*KeypairAuthGuard/);
  });

  it('with one instance running, uses it', async () => {
    instance('only', servers[0]);
    expect(await authenticate({})).toEqual({ answer: 'only' });
  });
});
