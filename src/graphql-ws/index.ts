// GraphQL subscriptions over graphql-ws: `import { keypairAuthGraphqlWs } from 'nestjs-keypair-auth/graphql-ws'`.
// Behind a subpath so the main entry never loads @nestjs/graphql or graphql-ws; this entry
// imports neither (only @nestjs/common and @nestjs/core, which the module needs anyway).
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
