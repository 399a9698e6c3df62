import { ConfigurableModuleBuilder } from '@nestjs/common';
import { KeypairAuthConfigurationError as ConfigError } from './errors/configuration.error';
import type { KeypairAuthModuleExtras, KeypairAuthModuleOptions } from './keypair-auth-options.interface';
import { KNOWN_KEYS } from './options/validate-options';

const STRUCTURAL_DEFAULTS: Required<KeypairAuthModuleExtras> = {
  isGlobal: true,
  adminApi: false,
  globalGuard: false,
  jwksEndpoint: false,
  signAllResponses: false,
  tokenApi: false,
  webBotAuthDirectory: false,
};

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: KEYPAIR_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KeypairAuthModuleOptions>({ moduleName: 'KeypairAuth' })
  .setClassMethodName('forRoot')
  .setExtras<Required<KeypairAuthModuleExtras>>(STRUCTURAL_DEFAULTS, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** Options a factory may return: every option but the structural ones, which shape the module itself. */
export type KeypairAuthFactoryOptions = KeypairAuthModuleOptions & {
  [K in keyof KeypairAuthModuleExtras]?: never;
};

/**
 * `forRootAsync()` options. The structural options (`adminApi`, `tokenApi`, `globalGuard`,
 * `jwksEndpoint`, `webBotAuthDirectory`, `signAllResponses`, `isGlobal`) decide which controllers and providers the
 * module has, before any provider runs: they go here, beside `useFactory`, and the type of
 * what `useFactory` returns excludes them.
 */
export type KeypairAuthModuleAsyncOptions = Omit<typeof ASYNC_OPTIONS_TYPE, 'useFactory'> & {
  useFactory?: (...args: never[]) => Promise<KeypairAuthFactoryOptions> | KeypairAuthFactoryOptions;
};

/**
 * Refuses options from a factory that carry a structural option: by then the module is
 * built, so it could not take effect (and would otherwise fail as an unknown option).
 */
export function refuseStructuralOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) return;
  const key = Object.keys(STRUCTURAL_DEFAULTS).find((name) => name in options);
  if (key === undefined) return;
  const value = JSON.stringify((options as Record<string, unknown>)[key]) ?? 'true';
  throw ConfigError.create(
    `${key} is a structural option, but the forRootAsync() factory returned it.`,
    `Pass it to forRootAsync({ ${key}: ${value}, useFactory … }), next to useFactory, ` +
      'not in the object useFactory returns (structural options shape the module before any factory runs).',
  );
}

/** What may stand beside useFactory: how the options are made, Nest's own key, and the structural options. */
const ASYNC_KEYS: readonly string[] = [
  'imports',
  'inject',
  'useFactory',
  'useClass',
  'useExisting',
  'provideInjectionTokensFrom',
  ...Object.keys(STRUCTURAL_DEFAULTS),
];

/**
 * Refuses ordinary options passed to forRootAsync() beside useFactory: Nest hands only
 * what the factory returns to the module, so they would be dropped without a word
 * (TypeScript catches them in an object literal, not in a spread config object).
 */
export function refuseMisplacedAsyncOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null) {
    throw ConfigError.create(
      'forRootAsync() needs an object.',
      'Pass forRootAsync({ inject: [...], useFactory: (...) => ({ ...options }) }).',
    );
  }
  const misplaced = Object.keys(options).filter((key) => !ASYNC_KEYS.includes(key));
  if (misplaced.length === 0) return;
  const moduleOptions = misplaced.filter((key) => (KNOWN_KEYS as readonly string[]).includes(key));
  if (moduleOptions.length === 0) {
    throw ConfigError.create(
      `unknown forRootAsync() option ${misplaced.join(', ')}.`,
      `Beside useFactory go only: ${ASYNC_KEYS.join(', ')}.`,
    );
  }
  throw ConfigError.create(
    `forRootAsync() got ${misplaced.join(', ')} beside useFactory, where ${misplaced.length === 1 ? 'it is' : 'they are'} ignored.`,
    `Return ${misplaced.length === 1 ? 'it' : 'them'} in the object useFactory returns (or create() of useClass): ` +
      `forRootAsync({ useFactory: () => ({ ${misplaced[0]}: … }) }). ` +
      `Beside useFactory go only: ${ASYNC_KEYS.join(', ')}.`,
  );
}

/**
 * Refuses what a forRootAsync() factory returned when it is not an options object:
 * undefined (a forgotten `return`, or `() => { … }` for `() => ({ … })`), null, or
 * anything else. Without this the module would start with every default.
 */
export function refuseNonObjectOptions(options: unknown): void {
  if (typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options;
  throw ConfigError.create(
    `the forRootAsync() factory returned ${got}, not an options object, so none of your options would apply.`,
    'Return the options from useFactory (check for a missing `return`, or write an arrow function ' +
      'as `() => ({ … })` with parentheses round the object); return {} for the defaults.',
  );
}
