import { X509Certificate } from 'node:crypto';
import {
  attributesByOid,
  CertificateError,
  DistinguishedName,
  quoteForMessage,
  readCertificateSubject,
  readSubjectAltNames,
  requireSingleCn,
  SubjectAltNames,
} from '../certificates';
import type { NameMappingRule } from './client-certificate-options';

const CN_OID = '2.5.4.3';

/**
 * The names of one certificate that mapping rules look at, decoded lazily and
 * at most once: the subject for CN rules, the SAN extension for SAN rules.
 * Both are read structurally from the DER, never from a string rendering.
 */
export class CertificateNames {
  private subjectCache: DistinguishedName | undefined;
  private sanCache: SubjectAltNames | undefined;

  constructor(
    private readonly leaf: X509Certificate | null,
    subject?: DistinguishedName,
  ) {
    this.subjectCache = subject;
  }

  get subject(): DistinguishedName {
    if (this.subjectCache === undefined) {
      if (this.leaf === null) throw new CertificateError('CERT_SUBJECT_INVALID', 'no subject available');
      this.subjectCache = readCertificateSubject(this.leaf);
    }
    return this.subjectCache;
  }

  get subjectAltNames(): SubjectAltNames {
    if (this.sanCache === undefined) {
      if (this.leaf === null) return { dns: [], uri: [], email: [], ip: [], otherCount: 0 };
      this.sanCache = readSubjectAltNames(this.leaf);
    }
    return this.sanCache;
  }
}

/**
 * The username a name rule yields, undefined when the rule does not apply (no
 * such name, or not under the rule's prefix/suffix), or a CertificateError
 * (CERT_SUBJECT_INVALID) when the name is ambiguous or hostile: two CNs, two
 * SANs of the kind, control or bidi characters, or a value that is not a
 * well-formed username (`mallory/CN=admin`, `Admin`, `ädmin`, `admin\,`).
 */
export function usernameFromRule(
  names: CertificateNames,
  rule: NameMappingRule,
  usernamePattern: RegExp,
): string | undefined {
  let value: string;
  if (rule.by === 'subject-cn') {
    const subject = names.subject;
    if (attributesByOid(subject, CN_OID).length === 0) return undefined;
    value = requireSingleCn(subject);
  } else {
    const san = names.subjectAltNames;
    const values = rule.by === 'san-email' ? san.email : rule.by === 'san-uri' ? san.uri : san.dns;
    if (values.length === 0) return undefined;
    if (values.length > 1) {
      throw new CertificateError(
        'CERT_SUBJECT_INVALID',
        `certificate has ${values.length} ${rule.by} names; ${rule.by} mapping needs exactly one`,
      );
    }
    value = values[0];
  }
  const prefix = rule.prefix ?? '';
  const suffix = rule.suffix ?? '';
  if (!value.startsWith(prefix) || !value.endsWith(suffix) || value.length < prefix.length + suffix.length) {
    return undefined;
  }
  const username = value.slice(prefix.length, value.length - suffix.length);
  if (!usernamePattern.test(username)) {
    throw new CertificateError(
      'CERT_SUBJECT_INVALID',
      `${rule.by} ${quoteForMessage(value, 80)} is not a well-formed username`,
    );
  }
  return username;
}
