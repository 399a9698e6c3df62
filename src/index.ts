// The public API of nestjs-keypair-auth. Everything an app or an implementer of an
// extension point needs is exported here; nothing needs a deep import into dist/.

// Module and options
export { KeypairAuthModule } from './keypair-auth.module';
export type {
  KeypairAuthModuleOptions,
  KeypairAuthModuleExtras,
  JwtStrategyOptions,
  KeyCacheOptions,
  StrategyName,
} from './keypair-auth-options.interface';
export { STRATEGY_NAMES } from './keypair-auth-options.interface';
export { KEYPAIR_AUTH_OPTIONS, REPLAY_STORE } from './keypair-auth.constants';
export type { ResolvedKeypairAuthOptions } from './options/resolved-options';

// Errors
export { AUTH_ERROR_CODES } from './errors/auth-error-codes';
export type { AuthErrorCode } from './errors/auth-error-codes';
export { KeypairAuthException, authError } from './errors/keypair-auth.exception';
export type { AuthErrorBody } from './errors/keypair-auth.exception';
export { KeypairRequestException } from './errors/request-error.exception';
export { KeypairAuthConfigurationError } from './errors/configuration.error';

// Security context, guards, decorators
export { SecurityContext, effectiveRoles } from './context/security-context';
export type { AuthMethod, AuthUser } from './context/security-context';
export { getSecurityContext, SECURITY_CONTEXT_PROPERTY } from './context/security-context.request';
export { CurrentSecurityContext } from './context/current-security-context.decorator';
export { Roles, ROLES_METADATA } from './context/roles.decorator';
export { Public, PUBLIC_METADATA } from './context/public.decorator';
export { RolesGuard } from './context/roles.guard';
export { KeypairAuthGuard } from './guards/keypair-auth.guard';

// Keys
export { KeyRegistry } from './keys/key-registry';
export type { KeyRegistration, KeyRegistryOptions } from './keys/key-registry';
export type { RegisteredKey, KeyView } from './keys/registered-key';
export {
  KEY_ALGORITHMS,
  isKeyAlgorithm,
  jwsAlgorithmOf,
  signWithAlgorithm,
  verifyWithAlgorithm,
} from './keys/key-algorithm';
export type { KeyAlgorithm } from './keys/key-algorithm';
export { parsePublicKey, loadPrivateKey, generateKeyPair } from './keys/key-formats';
export type { ParsedPublicKey } from './keys/key-formats';
export { KeyFormatError } from './keys/key-format.error';
export type { AuthUserDirectory } from './keys/user-directory.interface';
export { TypeOrmUserDirectory } from './keys/typeorm-user-directory';
export { KeyStoreUnavailableError } from './keys/key-store-unavailable.error';
export { User } from './keys/user.entity';
export { PublicKey } from './keys/public-key.entity';
export { KeyAdminService } from './admin/key-admin.service';

// Stores
export type { ReplayStore } from './stores/replay-store.interface';
export { ReplayStoreUnavailableError } from './stores/replay-store.interface';
export { MemoryReplayStore } from './stores/memory-replay.store';
export type { MemoryReplayStoreOptions } from './stores/memory-replay.store';
export { TypeOrmReplayStore } from './stores/typeorm-replay.store';
export { NonceRecord } from './stores/nonce.entity';

// Database
export {
  KEYPAIR_AUTH_ENTITIES,
  KEYPAIR_AUTH_MIGRATIONS,
  DEFAULT_DATABASE_URL,
  dataSourceOptionsFromUrl,
} from './database/keypair-auth-data-source';

// Strategies
export { AsymmetricJwtAuthenticator } from './jwt/asymmetric-jwt.authenticator';
export { AsymmetricJwtStrategy, KEYPAIR_JWT_STRATEGY } from './jwt/asymmetric-jwt.strategy';
export { HttpSignatureAuthenticator } from './signature-strategy/http-signature.authenticator';
export type { HttpSignatureSettings, HmacKey } from './signature-strategy/http-signature.authenticator';
export {
  HttpSignatureStrategy,
  KEYPAIR_HTTP_SIGNATURE_STRATEGY,
} from './signature-strategy/http-signature.strategy';
export {
  RequireSignature,
  SIGNATURE_POLICY_METADATA,
} from './signature-strategy/require-signature.decorator';
export type { SignaturePolicy, SignaturePolicyOverride } from './signature-strategy/signature-policy';
export type { HttpSignatureOptions } from './keypair-auth-options.interface';

export { ResponseSigner } from './response-signing/response-signer';
export type { ResponseSigningOptions, ServerSigningKeyOptions } from './response-signing/response-signer';
export { RESPONSE_SIGNER } from './response-signing/response-signing.constants';
export { SignResponse } from './response-signing/sign-response.decorator';
export { SignResponseInterceptor } from './response-signing/sign-response.interceptor';
export { JwksController } from './response-signing/jwks.controller';

// HTTP message signature core (framework-free; also used by the client SDK)
export * from './http-signatures';
