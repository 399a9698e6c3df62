import type { AttackSuite } from './attack-suite';
import { GRAPHQL_SUITE } from './graphql.cases';
import { KEY_CACHE_SUITE } from './key-cache.suite';
import { MTLS_SUITE, PROXY_FORMATS_SUITE } from './mtls.suite';
import { ORIGIN_SUITE } from './origin.suite';
import { PASSPORT_SUITE } from './passport.suite';
import { REPLAY_STORE_SUITE } from './replay-store.suite';
import { REQUEST_TARGET_SUITE } from './request-target.suite';
import { STARTUP_SUITE } from './startup.suite';
import { WEBSOCKET_SUITE } from './websocket.cases';
import { WEB_BOT_AUTH_SUITE } from './web-bot-auth.suite';

/**
 * The suites with an environment of their own, run by attack-corpus.e2e-spec.ts on both
 * adapters. Add one line per suite.
 */
export const ATTACK_SUITES: AttackSuite<unknown>[] = [
  ORIGIN_SUITE,
  STARTUP_SUITE,
  PASSPORT_SUITE,
  REPLAY_STORE_SUITE,
  MTLS_SUITE,
  PROXY_FORMATS_SUITE,
  REQUEST_TARGET_SUITE,
  KEY_CACHE_SUITE,
  GRAPHQL_SUITE,
  WEBSOCKET_SUITE,
  WEB_BOT_AUTH_SUITE,
];
