export {
  initCa,
  issueClientCert,
  issueServerCert,
  revoke,
  type CaCertificates,
  type InitCaOptions,
  type IssueClientCertOptions,
  type IssueServerCertOptions,
  type IssuedCertificate,
  type RevocationResult,
  type RevokeOptions,
  type SubjectAltNameSpec,
} from './local-ca';
export { caLayout, issuedFiles, type CaLayout, type IssuedFiles } from './ca-files';
export { type Pkcs12Options, type Pkcs12Result } from './pkcs12';
export { type SubjectAttributeSpec, type SubjectSpec } from './subject-spec';
