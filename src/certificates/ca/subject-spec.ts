import { JsonAttributeObject, Name } from '@peculiar/x509';
import { attributeTypeByName, NUMERIC_OID } from '../attribute-types';
import { CertificateError } from '../certificate-error';

/** One attribute of a subject to issue. Values are taken literally: no escaping, no parsing. */
export interface SubjectAttributeSpec {
  /** Short name (CN, O, OU, C, DC, UID, ...) or dotted OID. */
  readonly type: string;
  readonly value: string;
  /** ASN.1 string type. Default: printableString for C, ia5String for DC/emailAddress, utf8String otherwise. */
  readonly encoding?: 'utf8String' | 'printableString' | 'ia5String' | 'bmpString';
}

/** RDNs in ASN.1 order (most significant first); an inner array with several entries is a multi-valued RDN. */
export type SubjectSpec = readonly (readonly SubjectAttributeSpec[])[];

const IA5_BY_DEFAULT = new Set(['0.9.2342.19200300.100.1.25', '1.2.840.113549.1.9.1']);

/**
 * Converts to @peculiar/x509's JSON name with explicit string types. The
 * object form matters: given a plain string, the library parses "#..." as hex
 * BER and unescapes backslashes, which would defeat hostile test subjects.
 */
export function toPeculiarName(subject: SubjectSpec): Name {
  if (subject.length === 0)
    throw new CertificateError('CERT_CONFIG_INVALID', 'subject must have at least one RDN');
  const json = subject.map((rdn) => {
    if (rdn.length === 0)
      throw new CertificateError('CERT_CONFIG_INVALID', 'an RDN must have at least one attribute');
    const item: Record<string, JsonAttributeObject[]> = {};
    for (const attribute of rdn) {
      const oid = NUMERIC_OID.test(attribute.type)
        ? attribute.type
        : attributeTypeByName(attribute.type)?.oid;
      if (oid === undefined) {
        throw new CertificateError(
          'CERT_CONFIG_INVALID',
          `unknown attribute type ${JSON.stringify(attribute.type)}`,
        );
      }
      const encoding =
        attribute.encoding ??
        (oid === '2.5.4.6' ? 'printableString' : IA5_BY_DEFAULT.has(oid) ? 'ia5String' : 'utf8String');
      (item[oid] ??= []).push({ [encoding]: attribute.value });
    }
    return item;
  });
  return new Name(json);
}
