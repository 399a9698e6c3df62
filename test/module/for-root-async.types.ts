/**
 * Type-level cases of forRootAsync, compiled by for-root-async.e2e-spec.ts (never run).
 * Each `@ts-expect-error` marks a line the compiler must refuse; the spec also compiles
 * this file with those markers removed and expects exactly that many errors.
 */
import { KeypairAuthModule, KeypairAuthModuleOptions } from '../../src';

class ConfigLike {
  get(_key: string): string {
    return '20';
  }
}

export const accepted = [
  KeypairAuthModule.forRootAsync({
    inject: [ConfigLike],
    useFactory: (config: ConfigLike) => ({ clockSkewSeconds: Number(config.get('CLOCK_SKEW')) }),
    adminApi: true,
    tokenApi: true,
  }),
  KeypairAuthModule.forRootAsync({
    useFactory: async (): Promise<KeypairAuthModuleOptions> => ({ origin: 'https://api.example.com' }),
  }),
];

export const refused = [
  KeypairAuthModule.forRootAsync({
    // @ts-expect-error adminApi is structural: it goes beside useFactory, not in what it returns.
    useFactory: () => ({ clockSkewSeconds: 20, adminApi: true }),
  }),
  KeypairAuthModule.forRootAsync({
    inject: [ConfigLike],
    // @ts-expect-error globalGuard is structural too, also from an async factory.
    useFactory: async (_config: ConfigLike) => ({ globalGuard: true, origin: 'https://api.example.com' }),
  }),
];
