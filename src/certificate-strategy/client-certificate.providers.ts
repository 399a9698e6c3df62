import { Logger, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { KeyRegistry } from '../keys/key-registry';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { KEYPAIR_AUTH_DATA_SOURCE } from '../keypair-auth.internal-constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { CertificateRegistry } from './certificate-registry';
import { ClientCertificateAuthenticator } from './client-certificate.authenticator';

/**
 * Providers of the client-certificate strategy. The authenticator is null when
 * `clientCertificate` is not configured; its factory loads the CRL, so a CRL
 * that does not load (or is not signed by caBundle) stops startup.
 */
export const clientCertificateProviders: Provider[] = [
  {
    provide: CertificateRegistry,
    useFactory: (options: ResolvedKeypairAuthOptions, dataSource: DataSource, keyRegistry: KeyRegistry) =>
      new CertificateRegistry(dataSource, {
        cacheMax: options.keyCache.max,
        cacheTtlMs: options.keyCache.ttlMs,
        negativeTtlMs: options.keyCache.negativeTtlMs,
        keyRegistry,
      }),
    inject: [KEYPAIR_AUTH_OPTIONS, KEYPAIR_AUTH_DATA_SOURCE, KeyRegistry],
  },
  {
    provide: ClientCertificateAuthenticator,
    useFactory: async (
      options: ResolvedKeypairAuthOptions,
      keys: KeyRegistry,
      certificates: CertificateRegistry,
    ): Promise<ClientCertificateAuthenticator | null> => {
      const resolved = options.clientCertificate;
      if (!resolved || !options.strategies.has('client-certificate')) return null;
      const logger = new Logger('KeypairAuth');
      try {
        return await ClientCertificateAuthenticator.create(keys, certificates, resolved, {
          clockSkewMs: options.clockSkewMs,
          log: (level, message) => logger[level](message),
        });
      } catch (error) {
        throw ConfigError.create(
          `clientCertificate.crlFile ${JSON.stringify(resolved.crlFile)} cannot be used: ${(error as Error).message}.`,
          'It must be a current X509 CRL (PEM or DER) signed by a CA in caBundle.',
        );
      }
    },
    inject: [KEYPAIR_AUTH_OPTIONS, KeyRegistry, CertificateRegistry],
  },
];
