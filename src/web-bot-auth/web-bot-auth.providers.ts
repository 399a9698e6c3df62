import { Logger, Provider } from '@nestjs/common';
import { KeyRegistry } from '../keys/key-registry';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { REPLAY_STORE, ReplayStore } from '../stores/replay-store.interface';
import { DirectoryCache } from './directory-cache';
import { WebBotAuthAuthenticator } from './web-bot-auth.authenticator';

/**
 * Providers of the Web Bot Auth strategy: the authenticator, with its cache of agent
 * directories; null when `webBotAuth` is not configured.
 */
export const webBotAuthProviders: Provider[] = [
  {
    provide: WebBotAuthAuthenticator,
    useFactory: (
      options: ResolvedKeypairAuthOptions,
      registry: KeyRegistry,
      replayStore: ReplayStore,
    ): WebBotAuthAuthenticator | null => {
      const resolved = options.webBotAuth;
      if (!resolved || !options.strategies.has('web-bot-auth')) return null;
      const directories = new DirectoryCache(resolved.directory, new Logger('KeypairAuth'));
      return new WebBotAuthAuthenticator(directories, resolved.allowlist, registry, replayStore, {
        clockSkewMs: options.clockSkewMs,
        maxLifetimeMs: resolved.maxLifetimeMs,
        requireNonce: resolved.requireNonce,
        maxBodyBytes: options.httpSignature.maxBodyBytes,
        digestAlgorithms: options.httpSignature.digestAlgorithms,
        requiredComponents: options.httpSignature.policy.requiredComponents,
      });
    },
    inject: [KEYPAIR_AUTH_OPTIONS, KeyRegistry, REPLAY_STORE],
  },
];
