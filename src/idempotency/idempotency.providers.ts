import { Provider } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { KEYPAIR_AUTH_DATA_SOURCE } from '../keypair-auth.internal-constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store.interface';
import { MemoryIdempotencyStore } from './memory-idempotency.store';
import { TypeOrmIdempotencyStore } from './typeorm-idempotency.store';

/** The IdempotencyStore of KeypairAuthModule: the configured one, else TypeORM on the key DataSource. */
export const idempotencyProviders: Provider[] = [
  {
    provide: IDEMPOTENCY_STORE,
    useFactory: (options: ResolvedKeypairAuthOptions, dataSource: DataSource): IdempotencyStore => {
      const store = options.idempotency.store;
      if (
        store instanceof MemoryIdempotencyStore &&
        process.env.NODE_ENV === 'production' &&
        !options.allowInMemoryStoresInProduction
      ) {
        throw ConfigError.create(
          'NODE_ENV=production but idempotency.store is a MemoryIdempotencyStore, so a retry that reaches another ' +
            'instance (or this one after a restart) would run again.',
          'Leave idempotency.store out (TypeORM on the key database) or pass the Redis store; or set ' +
            'allowInMemoryStoresInProduction: true if this really is a single instance.',
        );
      }
      return store ?? new TypeOrmIdempotencyStore(dataSource);
    },
    inject: [KEYPAIR_AUTH_OPTIONS, KEYPAIR_AUTH_DATA_SOURCE],
  },
];
