import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const HERE = resolve(__dirname, 'without-swagger');
const REPO = resolve(__dirname, '../..');

/** Runs boot.ts in a fresh Node process, with or without the hook that hides @nestjs/swagger. */
function boot(swagger: 'installed' | 'missing' | 'broken') {
  const hooks = ['-r', resolve(HERE, 'transpile-ts.hook.js')];
  if (swagger !== 'installed') hooks.push('-r', resolve(HERE, 'hide-swagger.hook.js'));
  const child = spawnSync(process.execPath, [...hooks, resolve(HERE, 'boot.ts')], {
    cwd: REPO,
    env: { ...process.env, KPA_SWAGGER: swagger, NODE_ENV: 'test' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return {
    status: child.status,
    stderr: child.stderr,
    result: line.startsWith('{') ? JSON.parse(line) : null,
  };
}

describe('@nestjs/swagger is an optional peer', () => {
  it('without it, the module boots, authenticates and validates; the OpenAPI helper says how to install it', () => {
    const { status, stderr, result } = boot('missing');
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(result).toEqual({
      swaggerLoaded: false,
      listed: 200,
      created: 201,
      invalid: [400, 'VALIDATION_FAILED'],
      anonymous: 401,
      helper: expect.stringMatching(
        /^threw KeypairAuthConfigurationError: .*addKeypairAuthSecuritySchemes\(\) needs the @nestjs\/swagger package, which is not installed\. Install it with npm install @nestjs\/swagger/,
      ),
    });
  });

  it('with it, the same program loads swagger and the helper adds the five security schemes', () => {
    const { status, result } = boot('installed');
    expect(status).toBe(0);
    expect(result).toMatchObject({
      swaggerLoaded: true,
      listed: 200,
      helper:
        'added keypair-http-signature,keypair-client-jwt,keypair-access-token,keypair-dpop,keypair-client-certificate',
    });
  });

  it('a swagger that is installed but cannot load fails loudly instead of turning the docs off', () => {
    const { status, stderr } = boot('broken');
    expect(status).not.toBe(0);
    expect(stderr).toContain("Cannot find module 'swagger-ui-dist'");
  });
});
