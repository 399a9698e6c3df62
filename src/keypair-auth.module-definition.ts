import { ConfigurableModuleBuilder } from '@nestjs/common';
import { KeypairAuthConfigurationError as ConfigError } from './errors/configuration.error';
import type { KeypairAuthModuleExtras, KeypairAuthModuleOptions } from './keypair-auth-options.interface';

const STRUCTURAL_DEFAULTS: Required<KeypairAuthModuleExtras> = {
  isGlobal: true,
  adminApi: false,
  globalGuard: false,
  jwksEndpoint: false,
  signAllResponses: false,
  tokenApi: false,
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
 * `jwksEndpoint`, `signAllResponses`, `isGlobal`) decide which controllers and providers the
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
