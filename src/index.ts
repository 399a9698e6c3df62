// The public API of nestjs-keypair-auth. Everything an app or an implementer of an
// extension point needs is exported here; nothing needs a deep import into dist/.

// First: a missing peer dependency (Nest, TypeORM, …) fails here with the command that installs it.
import './check-peer-dependencies';
export { MissingPeerDependencyError } from './peer-dependencies';

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
export type {
  KeypairAuthFactoryOptions,
  KeypairAuthModuleAsyncOptions,
} from './keypair-auth.module-definition';
export { KEYPAIR_AUTH_OPTIONS, REPLAY_STORE } from './keypair-auth.constants';
export type { ResolvedKeypairAuthOptions } from './options/resolved-options';

// Errors
export { AUTH_ERROR_CODES } from './errors/auth-error-codes';
export type { AuthErrorCode } from './errors/auth-error-codes';
export { KeypairAuthException, authError } from './errors/keypair-auth.exception';
export type { AuthErrorBody } from './errors/keypair-auth.exception';
export { KeypairRequestException } from './errors/request-error.exception';
export { KeypairAuthConfigurationError } from './errors/configuration.error';
export {
  KEYPAIR_AUTH_SECURITY_SCHEMES,
  addKeypairAuthSecuritySchemes,
  keypairAuthSecuritySchemes,
} from './openapi/security-schemes';
export type {
  KeypairAuthSecurityScheme,
  KeypairAuthSecuritySchemeName,
  SecuritySchemeTarget,
} from './openapi/security-schemes';
export { ApiKeypairAuth } from './openapi/api-operation.decorator';
export { KeypairAuthErrorBody } from './openapi/error-body.schema';

// Security context, guards, decorators
export { SecurityContext, effectiveRoles } from './context/security-context';
export type { AuthMethod, AuthUser, WebBotAuthAgent } from './context/security-context';
export { getSecurityContext, SECURITY_CONTEXT_PROPERTY } from './context/security-context.request';
export { CurrentSecurityContext } from './context/current-security-context.decorator';
export { Roles, ROLES_METADATA } from './context/roles.decorator';
export { Public, PUBLIC_METADATA } from './context/public.decorator';
export { RolesGuard } from './context/roles.guard';
export { KeypairAuthGuard } from './guards/keypair-auth.guard';
export { AllowCaching, ALLOW_CACHING_METADATA } from './context/allow-caching.decorator';

// Hardening: failed-authentication throttling and audit events (docs/SECURITY.md)
export { AuthThrottle } from './throttle/auth-throttle';
export { MemoryThrottleStore } from './throttle/memory-throttle.store';
export type { MemoryThrottleStoreOptions } from './throttle/memory-throttle.store';
export {
  THROTTLE_STORE,
  InjectThrottleStore,
  getThrottleStoreToken,
} from './throttle/throttle-store.interface';
export type { ThrottleHit, ThrottleStore } from './throttle/throttle-store.interface';
export type {
  ResolvedThrottleOptions,
  ThrottleDimension,
  ThrottleOptions,
} from './throttle/throttle-options';
export { AuthAudit } from './audit/auth-audit';
export type { AuditLogMode, AuthEvent, AuthEventHandler } from './audit/auth-event';

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
export { parsePublicKey } from './keys/formats/public-key-parser';
export { loadPrivateKey } from './keys/formats/private-key-loader';
export { generateKeyPair } from './keys/formats/key-generation';
export type { ParsedPublicKey } from './keys/formats/public-key.types';
export { KeyFormatError } from './keys/formats/key-format.error';
export type { AuthUserDirectory } from './keys/user-directory.interface';
export { TypeOrmUserDirectory } from './keys/typeorm-user-directory';
export { KeyStoreUnavailableError } from './keys/key-store-unavailable.error';
export { User } from './keys/user.entity';
export { PublicKey } from './keys/public-key.entity';
export { KeyAdminService } from './admin/key-admin.service';

// Health and scale-out
export { KeypairAuthHealth } from './health/keypair-auth-health';
export type { KeypairAuthHealthReport, DependencyState } from './health/keypair-auth-health';
export type { CacheInvalidation, CacheInvalidationBus } from './keys/cache-invalidation.interface';

// Stores
export type { ReplayStore } from './stores/replay-store.interface';
export { ReplayStoreUnavailableError } from './stores/replay-store.interface';
export { MemoryReplayStore } from './stores/memory-replay.store';
export type { MemoryReplayStoreOptions } from './stores/memory-replay.store';
export { assertStoreTtl } from './stores/store-ttl';
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
export { WebBotAuthAuthenticator } from './web-bot-auth/web-bot-auth.authenticator';
export { KEYPAIR_WEB_BOT_AUTH_STRATEGY, WebBotAuthStrategy } from './web-bot-auth/web-bot-auth.strategy';
export type {
  WebBotAuthAgentOptions,
  WebBotAuthDirectoryOptions,
  WebBotAuthOptions,
} from './web-bot-auth/web-bot-auth-options';

export { ResponseSigner } from './response-signing/response-signer';
export type { ResponseSigningOptions, ServerSigningKeyOptions } from './response-signing/response-signer';
export { RESPONSE_SIGNER, SERVER_KEYRING } from './response-signing/response-signing.constants';
export { ServerKeyring } from './response-signing/server-keyring';
export type { ServerKeyringKey } from './response-signing/server-keyring';
export { SignResponse } from './response-signing/sign-response.decorator';
export { SignResponseInterceptor } from './response-signing/sign-response.interceptor';
export { JwksController } from './response-signing/jwks.controller';
// Web Bot Auth as an agent: the signed key directory of the server keyring (webBotAuthDirectory)
export { WebBotAuthDirectoryController } from './web-bot-auth/web-bot-auth-directory.controller';
export { signedDirectoryResponse } from './web-bot-auth/directory-response';
export type { DirectorySigningKey, SignedDirectoryResponse } from './web-bot-auth/directory-response';

// HTTP message signature core (framework-free; also used by the client SDK)
export * from './http-signatures';

// Client certificates: the framework-free core (forwarded-header decoders, names, verification, a small CA)
export * from './certificates';
// ... and the strategy, registry and admin API over it
export { ClientCertificateAuthenticator } from './certificate-strategy/client-certificate.authenticator';
export type {
  ClientCertificateRequest,
  ClientCertificateSettings,
  TlsPeer,
} from './certificate-strategy/client-certificate.authenticator';
export {
  ClientCertificateStrategy,
  KEYPAIR_CLIENT_CERTIFICATE_STRATEGY,
  clientCertificateEntry,
  tlsPeer,
} from './certificate-strategy/client-certificate.strategy';
export {
  CertificateRegistry,
  normalizeCertificateFingerprint,
} from './certificate-strategy/certificate-registry';
export type {
  CertificateRegistration,
  CertificateRegistryOptions,
  CertificateView,
  RegisteredCertificate,
} from './certificate-strategy/certificate-registry';
export { ClientCertificate } from './certificate-strategy/client-certificate.entity';
export { CertificateAdminController } from './certificate-strategy/certificate-admin.controller';
export {
  CLIENT_CERTIFICATE_FORMATS,
  LEGACY_SUBJECT_DN_FORMAT,
} from './certificate-strategy/client-certificate-options';
export type {
  CertificateMappingRule,
  ClientCertificateFormat,
  ClientCertificateOptions,
  FingerprintMappingRule,
  NameMappingRule,
  ResolvedClientCertificateOptions,
} from './certificate-strategy/client-certificate-options';

// Idempotency (Idempotency-Key on write routes; see docs/idempotency.md)
export { Idempotent } from './idempotency/idempotent.decorator';
export { IDEMPOTENT_METADATA } from './idempotency/idempotent.constants';
export { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
export { IdempotentEndpoint } from './idempotency/idempotent-endpoint';
export { TypeOrmIdempotentEndpoint } from './idempotency/typeorm-idempotent-endpoint';
export { RecoverableIdempotentEndpoint, RecoverySteps } from './idempotency/recoverable-idempotent-endpoint';
export type { RecoveryPoint } from './idempotency/recoverable-idempotent-endpoint';
export {
  IdempotencyAttempt,
  currentIdempotencyAttempt,
  requireIdempotencyAttempt,
} from './idempotency/idempotency-attempt';
export type {
  IdempotencyOptions,
  IdempotentRouteOptions,
  ResolvedIdempotencyOptions,
} from './idempotency/idempotency-options';
export {
  IDEMPOTENCY_STORE,
  IdempotencyStoreUnavailableError,
  InjectIdempotencyStore,
  getIdempotencyStoreToken,
  idempotencyRecordId,
} from './idempotency/idempotency-store.interface';
export type {
  IdempotencyAcquireRequest,
  IdempotencyAcquireResult,
  IdempotencyLockRef,
  IdempotencyStore,
  StoredResponse,
} from './idempotency/idempotency-store.interface';
export { MemoryIdempotencyStore } from './idempotency/memory-idempotency.store';
export type { MemoryIdempotencyStoreOptions } from './idempotency/memory-idempotency.store';
export { TypeOrmIdempotencyStore } from './idempotency/typeorm-idempotency.store';
export type { TypeOrmIdempotencyStoreOptions } from './idempotency/typeorm-idempotency.store';
export { IdempotencyRecord } from './idempotency/idempotency-record.entity';
export { readIdempotencyKey, IDEMPOTENCY_KEY_HEADER } from './idempotency/idempotency-key';
export { requestFingerprint, canonicalJson } from './idempotency/request-fingerprint';
export { IDEMPOTENT_REPLAYED_HEADER, REPLAYED_HEADERS } from './idempotency/stored-response';
export { runInTransaction } from './idempotency/typeorm-transaction';
export {
  IDEMPOTENCY_ERROR_CODES,
  IdempotencyException,
  idempotencyErrorBody,
} from './errors/idempotency.exception';
export type { IdempotencyErrorCode } from './errors/idempotency.exception';

// Tokens: key proof once, then access tokens and rotating refresh tokens (see docs/tokens.md)
export { TokenService } from './tokens/token.service';
export type {
  ChallengeAnswer,
  KeyProof,
  ProofMethod,
  TokenRequest,
  TokenResponse,
} from './tokens/token.service';
export type { TokenOptions, DpopOptions, ResolvedTokenOptions } from './tokens/token-options';
export { TokenController } from './tokens/token.controller';
export { TokenAdminController } from './tokens/token-admin.controller';
export { TokenRequestGuard } from './tokens/token-request.guard';
export { AccessTokenAuthenticator } from './tokens/access-token.authenticator';
export type { AccessTokenRequest, AccessTokenSettings } from './tokens/access-token.authenticator';
export {
  AccessTokenStrategy,
  KEYPAIR_ACCESS_TOKEN_STRATEGY,
  accessTokenEntry,
} from './tokens/access-token.strategy';
export { ACCESS_TOKEN_TYPE } from './tokens/access-token';
export type { AccessTokenClaims, TokenConfirmation, TokenCredential } from './tokens/access-token';
export { CHALLENGE_SIGNING_PREFIX, challengeSigningInput } from './tokens/challenge';
export type { IssuedChallenge } from './tokens/challenge';
export { DpopVerifier } from './tokens/dpop.verifier';
export type { DpopRequest, VerifiedDpopProof } from './tokens/dpop.verifier';
export { DPOP_ALGORITHMS, accessTokenHash, createDpopProof } from './tokens/dpop-proof';
export type { DpopProofOptions } from './tokens/dpop-proof';
export { TokenGenerations } from './tokens/token-generations';
export { RefreshTokenStore } from './tokens/refresh-token.store';
export { RefreshTokenRecord } from './tokens/refresh-token.entity';
export { TokenGeneration } from './tokens/token-generation.entity';
