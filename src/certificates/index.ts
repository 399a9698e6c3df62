export {
  CERTIFICATE_ERROR_CODES,
  CertificateError,
  isCertificateError,
  quoteForMessage,
  type CertificateErrorCode,
} from './certificate-error';
export {
  createForwardedCertificateParser,
  parseForwardedCertificate,
  DEFAULT_CERTIFICATE_HEADERS,
  DEFAULT_MAX_CHAIN_LENGTH,
  DEFAULT_RFC9440_CHAIN_HEADER,
  FORWARDED_CERTIFICATE_FORMATS,
  type ForwardedCertificate,
  type ForwardedCertificateFormat,
  type ForwardedCertificateParser,
  type ForwardedCertificateParserOptions,
} from './forwarded-certificate.parser';
export {
  encodeForwardedCertificate,
  type EncodeOptions,
  type XfccEncodeOptions,
} from './forwarded-certificate.encoder';
export {
  assertClientVerified,
  parseClientVerifyLines,
  parseClientVerifyStatus,
  DEFAULT_VERIFY_HEADER,
  VERIFY_STATUS_SYNTAXES,
  type VerifyStatusSyntax,
  type ClientVerifyOutcome,
  type ClientVerifyStatus,
} from './verify-status.parser';
export { collectHeaderLines, DEFAULT_MAX_HEADER_LENGTH } from './header-lines';
export { parseXfcc, xfccValue, formatXfccElement, type XfccElement } from './xfcc';
export {
  attributesByOid,
  distinguishedNamesEqual,
  formatDistinguishedName,
  parseDistinguishedName,
  requireSingleCn,
  MAX_DN_STRING_LENGTH,
  type BerAttribute,
  type DistinguishedName,
  type DnAttribute,
  type RelativeDistinguishedName,
  type StringAttribute,
  type StringEncoding,
} from './distinguished-name';
export {
  readCertificateIdentity,
  readCertificateIssuer,
  readCertificateSubject,
  readSubjectAltNames,
  type CertificateIdentity,
  type SubjectAltNames,
} from './certificate-identity';
export { certificateFingerprints, type CertificateFingerprints } from './certificate-fingerprint';
export { decodeCertificateDer, loadCertificateBundle } from './certificate-decoding';
export {
  CertificateVerifier,
  type CertificateVerifierOptions,
  type VerifiedCertificate,
} from './certificate-verifier';
export { CrlRevocationList } from './crl-revocation-list';
export { certificateSerialNumber, normalizeSerialNumber } from './serial-number';
export * from './ca';
