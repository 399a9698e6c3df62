import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import * as ts from 'typescript';
import {
  dataSourceOptionsFromUrl,
  KEYPAIR_AUTH_OPTIONS,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
} from '../../src';
import type { ResolvedKeypairAuthOptions } from '../../src/options/resolved-options';

const typeorm = () =>
  TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true });

const REPO = join(__dirname, '../..');

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Type-checks files as an app would (strict, `nestjs-keypair-auth` resolving to src/), plus
 * in-memory files; returns the error messages of one file.
 */
function typeCheck(files: string[], virtual: Record<string, string>): (file: string) => string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    baseUrl: REPO,
    paths: { 'nestjs-keypair-auth': ['src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in virtual || fileExists(name);
  host.getSourceFile = (name, language, ...rest) =>
    name in virtual
      ? ts.createSourceFile(name, virtual[name], language)
      : getSourceFile(name, language, ...rest);
  const program = ts.createProgram([...files, ...Object.keys(virtual)], options, host);
  return (file) =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const STRUCTURAL_IN_FACTORY =
  /adminApi is a structural option, but the forRootAsync\(\) factory returned it\. Pass it to forRootAsync\(\{ adminApi: true, useFactory … \}\), next to useFactory, not in the object useFactory returns/;

describe('forRootAsync and structural options', () => {
  it('refuses a structural option returned by useFactory, saying to pass it beside useFactory', async () => {
    const build = Test.createTestingModule({
      imports: [
        typeorm(),
        KeypairAuthModule.forRootAsync({
          useFactory: async () => ({ clockSkewSeconds: 20, adminApi: true }) as KeypairAuthModuleOptions,
        }),
      ],
    });
    await expect(build.compile()).rejects.toThrow(STRUCTURAL_IN_FACTORY);
  });

  it('refuses it from useClass as well', async () => {
    @Injectable()
    class OptionsFactory {
      create(): KeypairAuthModuleOptions {
        return { tokenApi: false } as KeypairAuthModuleOptions;
      }
    }
    const build = Test.createTestingModule({
      imports: [typeorm(), KeypairAuthModule.forRootAsync({ useClass: OptionsFactory })],
    });
    await expect(build.compile()).rejects.toThrow(
      /tokenApi is a structural option.*forRootAsync\(\{ tokenApi: false, useFactory … \}\)/,
    );
  });

  it('mounts what the structural options beside useFactory ask for', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        typeorm(),
        KeypairAuthModule.forRootAsync({ useFactory: () => ({ clockSkewSeconds: 20 }), adminApi: true }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    // Mounted and guarded: 401 with a code, not 404.
    const res = await request(app.getHttpServer()).get('/admin/users');
    expect([res.status, res.body.code]).toEqual([401, 'CREDENTIALS_MISSING']);
    await app.close();
  });

  it('makes a structural option in the factory a type error', () => {
    const fixture = join(__dirname, 'for-root-async.types.ts');
    const text = readFileSync(fixture, 'utf8');
    const markers = text.split('\n').filter((line) => line.trim().startsWith('// @ts-expect-error')).length;
    expect(markers).toBe(2);
    // The same file without the markers: each marked line must then be an error.
    const unmarked = join(__dirname, 'for-root-async.types.unmarked.ts');
    const errorsIn = typeCheck([fixture], { [unmarked]: text.replace(/\/\/ @ts-expect-error.*\n/g, '\n') });
    expect(errorsIn(fixture)).toEqual([]);
    const errors = errorsIn(unmarked);
    expect(errors).toHaveLength(markers);
    expect(errors.join('\n')).toContain("Types of property 'adminApi' are incompatible");
    expect(errors.join('\n')).toContain("Types of property 'globalGuard' are incompatible");
  });

  // The docs example imports @nestjs/config, a devDependency only docs need.
  const withConfig = isInstalled('@nestjs/config') ? it : it.skip;
  withConfig.each([
    ['README.md', '<!-- for-root-async-example -->'],
    ['docs/module.md', '## Options from configuration'],
  ])('compiles the @nestjs/config example of %s as written', (page, heading) => {
    const text = readFileSync(join(REPO, page), 'utf8');
    expect(text).toContain(heading);
    const example = /```ts\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)))?.[1] ?? '';
    expect(example).toContain('KeypairAuthModule.forRootAsync');
    const file = join(__dirname, 'docs-module-example.ts');
    expect(typeCheck([], { [file]: example })(file)).toEqual([]);
  });
});

describe('forRootAsync: what goes beside useFactory, and what it must return', () => {
  it('refuses ordinary options beside useFactory, naming them and saying they belong in what it returns', () => {
    // A spread config type-checks, so only the runtime can catch it.
    const security = {
      httpSignature: { requireNonce: true },
      jwt: { audience: 'https://api.example.com' },
      throttle: {},
    };
    expect(() => KeypairAuthModule.forRootAsync({ useFactory: () => ({}), ...security })).toThrow(
      /forRootAsync\(\) got httpSignature, jwt, throttle beside useFactory, where they are ignored\. Return them in the object useFactory returns.*Beside useFactory go only: imports, inject, useFactory, useClass, useExisting, provideInjectionTokensFrom, isGlobal, adminApi/s,
    );
  });

  it('refuses an unknown key beside useFactory (a typo of inject)', () => {
    expect(() => KeypairAuthModule.forRootAsync({ useFactory: () => ({}), injects: [] } as never)).toThrow(
      /unknown forRootAsync\(\) option injects\./,
    );
  });

  it('applies the same options when they are returned by useFactory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        typeorm(),
        KeypairAuthModule.forRootAsync({
          useFactory: () => ({
            httpSignature: { requireNonce: true },
            jwt: { audience: 'https://api.example.com' },
            throttle: {},
          }),
          imports: [],
          inject: [],
          isGlobal: true,
          globalGuard: false,
        }),
      ],
    }).compile();
    const resolved = moduleRef.get<ResolvedKeypairAuthOptions>(KEYPAIR_AUTH_OPTIONS);
    expect(resolved.httpSignature.policy.requireNonce).toBe(true);
    expect(resolved.jwt.audience).toEqual(['https://api.example.com']);
    expect(resolved.throttle).not.toBeNull();
    await moduleRef.close();
  });

  it.each([
    ['undefined (a forgotten return)', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a string', 'https://api.example.com', 'string'],
    ['an array', [{ origin: 'https://api.example.com' }], 'an array'],
  ])('stops the app when the factory returns %s', async (_what, value, got) => {
    const build = Test.createTestingModule({
      imports: [typeorm(), KeypairAuthModule.forRootAsync({ useFactory: async () => value as never })],
    });
    await expect(build.compile()).rejects.toThrow(
      new RegExp(
        `the forRootAsync\\(\\) factory returned ${got}, not an options object.*missing \`return\``,
        's',
      ),
    );
  });

  it('stops the app when create() of useClass returns nothing', async () => {
    @Injectable()
    class OptionsFactory {
      create(): KeypairAuthModuleOptions {
        return undefined as never;
      }
    }
    const build = Test.createTestingModule({
      imports: [typeorm(), KeypairAuthModule.forRootAsync({ useClass: OptionsFactory })],
    });
    await expect(build.compile()).rejects.toThrow(/factory returned undefined, not an options object/);
  });
});
