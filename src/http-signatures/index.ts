export {
  HTTP_SIGNATURE_ERROR_CODES,
  HttpSignatureError,
  isHttpSignatureError,
  quoteInput,
  type HttpSignatureErrorCode,
} from './http-signature.error';
export {
  getFieldLines,
  getFieldValue,
  isResponse,
  normalizeFieldLine,
  type HttpMessageView,
} from './http-message';
export { parseRawHttpMessage, type RawHttpMessage, type RawHttpMessageOptions } from './raw-http-message';

export {
  DEFAULT_RFC9421_LIMITS,
  type ComponentIdentifier,
  type ComponentParameters,
  type CoveredComponent,
  type Rfc9421Limits,
  type Rfc9421Signature,
  type SignatureParameters,
} from './rfc9421/rfc9421.types';
export { DERIVED_COMPONENTS, type DerivedComponentName } from './rfc9421/component-identifier';
export {
  hasRfc9421Signature,
  parseRfc9421,
  selectSignature,
  type SignatureSelector,
} from './rfc9421/signature-input.parser';
export {
  buildSignatureBase,
  buildSignatureBaseString,
  type SignatureBaseInput,
} from './rfc9421/signature-base';
export { signRfc9421, type Rfc9421SignOptions, type Rfc9421SignResult } from './rfc9421/signer';
export { verifyRfc9421Signature, type SignatureVerifier } from './rfc9421/verifier';

export {
  MAX_CAVAGE_HEADER_LENGTH,
  parseCavage,
  parseCavageAuthorization,
  parseCavageSignatureHeader,
  type CavageSignatureParams,
  type CavageSignatureSource,
} from './cavage/cavage-header.parser';
export { CAVAGE_ALGORITHMS, cavageAlgorithmName, resolveCavageAlgorithm } from './cavage/cavage-algorithm';
export {
  buildCavageSigningString,
  cavageDefaultHeaders,
  type CavageSigningStringInput,
  type CavageSigningStringOptions,
} from './cavage/signing-string';
export {
  cavageSigner,
  signCavage,
  type CavageSignOptions,
  type CavageSignResult,
} from './cavage/cavage-signer';
export { verifyCavageBytes, verifyCavageSignature, type CavageVerifyOptions } from './cavage/cavage-verifier';
export { ecdsaDerToP1363, ecdsaP1363ToDer } from './cavage/ecdsa-signature';

export { DIGEST_ALGORITHMS, type DigestAlgorithm } from './digest/digest-algorithm';
export {
  computeContentDigest,
  parseContentDigest,
  verifyContentDigest,
  type DigestEntry,
  type DigestVerifyOptions,
} from './digest/content-digest';
export {
  computeLegacyDigest,
  parseLegacyDigest,
  verifyLegacyDigest,
  type LegacyDigestEntry,
} from './digest/legacy-digest';
