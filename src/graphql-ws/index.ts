// GraphQL subscriptions authenticated by their WebSocket handshake, for Apollo (graphql-ws) and
// Mercurius: `import { keypairAuthGraphqlWs } from 'nestjs-keypair-auth/graphql-ws'`.
// Behind a subpath so the main entry never loads it; this entry imports none of @nestjs/graphql,
// graphql-ws, ws or mercurius either (only @nestjs/common and @nestjs/core, as the module does).
import '../check-peer-dependencies';

export { keypairAuthGraphqlWs } from './handshake-gate';
export type { KeypairAuthGraphqlWsGateOptions } from './handshake-gate';
export { keypairAuthGraphqlWsOptions } from './graphql-ws-options';
export type {
  GraphqlWsConnectionContext,
  GraphqlWsOnConnectResult,
  KeypairAuthGraphqlWsOptions,
  KeypairAuthGraphqlWsServerOptions,
} from './graphql-ws-options';
export { keypairAuthMercuriusSubscription } from './mercurius-subscription';
export type { KeypairAuthMercuriusSubscription } from './mercurius-subscription';
