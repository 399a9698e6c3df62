import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as ts from 'typescript';
import { KeyRegistry } from '../../src';
import * as client from '../../src/client';
import { signRequest } from '../../src/client';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { REPO } from '../support/processes';
import { CapturingLogger } from '../support/test-app';

/**
 * The example of docs/graphql.md, run as written: the server block (between
 * `graphql-example:begin/end`) becomes a module of this repo's source, with SQLite in memory,
 * and the client block (`graphql-client:begin/end`) runs against it with the SDK.
 */
const page = readFileSync(join(REPO, 'docs/graphql.md'), 'utf8');

function block(name: string): string {
  const match = new RegExp(
    `<!-- ${name}:begin -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`,
  ).exec(page);
  if (!match) throw new Error(`docs/graphql.md has no ${name} block`);
  return match[1];
}

describe('docs/graphql.md', () => {
  const reader = testKey('ed25519', 0);
  const admin = testKey('ed25519', 1);
  const logs = new CapturingLogger();
  let app: INestApplication;
  let server: string;
  let dir: string;
  const env = { ...process.env };

  beforeAll(async () => {
    // Under the repo, so the example resolves @nestjs/* from its node_modules (.tmp/ is ignored by git).
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    const file = join(REPO, '.tmp', `graphql-example-${process.pid}.ts`);
    writeFileSync(
      file,
      block('graphql-example').replace(/'nestjs-keypair-auth'/g, JSON.stringify(join(REPO, 'src'))),
    );
    process.env.AUTH_DB = ':memory:';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppModule } = require(file) as { AppModule: new () => unknown };
    rmSync(file);
    app = await NestFactory.create(AppModule, { rawBody: true, logger: logs });
    await app.listen(0, '127.0.0.1');
    server = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const registry = app.get(KeyRegistry);
    await registry.register(await registry.directory.create!('alice', ['reader']), reader.publicPem, {
      keyId: 'alice-laptop',
    });
    await registry.register(await registry.directory.create!('root', ['admin', 'writer']), admin.publicPem, {
      keyId: 'root-key',
    });
    dir = mkdtempSync(join(tmpdir(), 'kpa-gql-doc-'));
  });
  afterAll(async () => {
    process.env = env;
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the client example gets the account with balance null and ROLE_REQUIRED on it, for a reader', async () => {
    writeFileSync(join(dir, 'alice.pem'), reader.privatePem, { mode: 0o600 });
    process.env.KEY_FILE = join(dir, 'alice.pem');
    process.env.API = server;
    const source = block('graphql-client').replace(/^import .*$/m, '');
    const js = ts.transpileModule(
      `export async function run(createSignedFetch: any, console: any) {\n${source}\n}`,
      {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      },
    ).outputText;
    const exports: { run?: (f: unknown, c: unknown) => Promise<void> } = {};
    new Function('exports', js)(exports);
    const printed: unknown[][] = [];
    await exports.run!(client.createSignedFetch, { log: (...args: unknown[]) => printed.push(args) });
    expect(printed).toHaveLength(1);
    const [status, text] = printed[0] as [number, string];
    expect(status).toBe(200);
    const body = JSON.parse(text) as {
      data: unknown;
      errors: { path: string[]; extensions: { code: string } }[];
    };
    expect(body.data).toEqual({ account: { owner: 'alice', balance: null } });
    expect(body.errors.map((e) => [e.path.join('.'), e.extensions.code])).toEqual([
      ['account.balance', 'ROLE_REQUIRED'],
    ]);
  });

  it('an admin gets the balance, a writer may deposit, a reader may not, and health is public', async () => {
    const post = (query: string, key = admin, keyId = 'root-key') => {
      const body = JSON.stringify({ query });
      const { headers } = signRequest(
        { method: 'POST', url: `${server}/graphql`, headers: { 'content-type': 'application/json' }, body },
        { keyId, privateKey: key.privateKey },
      );
      return send(`${server}/graphql`, { method: 'POST', headers, body });
    };
    expect((await post('{ account { owner balance } }')).body).toEqual({
      data: { account: { owner: 'root', balance: 400 } },
    });
    expect((await post('mutation { deposit(cents: 5) }')).body).toEqual({ data: { deposit: 5 } });
    const refused = await post('mutation { deposit(cents: 5) }', reader, 'alice-laptop');
    expect((refused.body.errors as { extensions: { code: string } }[])[0].extensions.code).toBe(
      'ROLE_REQUIRED',
    );
    const open = await send(`${server}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health }' }),
    });
    expect(open.body).toEqual({ data: { health: 'ok' } });
    expect(logs.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});
