/**
 * Attribute types that can appear in a distinguished name: canonical short
 * name (RFC 4514 §3 where it defines one, OpenSSL's otherwise), OID, and
 * accepted aliases. Descriptors are case-insensitive (RFC 4512 §1.4).
 */
const ATTRIBUTE_TYPES: readonly (readonly [name: string, oid: string, ...aliases: string[]])[] = [
  ['CN', '2.5.4.3', 'commonName'],
  ['SN', '2.5.4.4', 'surname'],
  ['serialNumber', '2.5.4.5'],
  ['C', '2.5.4.6', 'countryName'],
  ['L', '2.5.4.7', 'localityName'],
  ['ST', '2.5.4.8', 'stateOrProvinceName'],
  ['STREET', '2.5.4.9', 'streetAddress'],
  ['O', '2.5.4.10', 'organizationName'],
  ['OU', '2.5.4.11', 'organizationalUnitName'],
  ['title', '2.5.4.12'],
  ['postalCode', '2.5.4.17'],
  ['GN', '2.5.4.42', 'givenName'],
  ['initials', '2.5.4.43'],
  ['generationQualifier', '2.5.4.44'],
  ['dnQualifier', '2.5.4.46'],
  ['pseudonym', '2.5.4.65'],
  ['organizationIdentifier', '2.5.4.97'],
  ['DC', '0.9.2342.19200300.100.1.25', 'domainComponent'],
  ['UID', '0.9.2342.19200300.100.1.1', 'userId'],
  ['emailAddress', '1.2.840.113549.1.9.1', 'E', 'email'],
];

export const CN_OID = '2.5.4.3';

const BY_NAME = new Map<string, { name: string; oid: string }>();
const BY_OID = new Map<string, string>();
for (const [name, oid, ...aliases] of ATTRIBUTE_TYPES) {
  for (const alias of [name, ...aliases]) BY_NAME.set(alias.toLowerCase(), { name, oid });
  BY_OID.set(oid, name);
}

/** Canonical name and OID for a descriptor, or undefined when unknown. */
export function attributeTypeByName(descriptor: string): { name: string; oid: string } | undefined {
  return BY_NAME.get(descriptor.toLowerCase());
}

/** Canonical short name for an OID, or undefined when unknown. */
export function attributeNameByOid(oid: string): string | undefined {
  return BY_OID.get(oid);
}

/** Dotted OID syntax of RFC 4512 (numericoid): at least two arcs, no leading zeros. */
export const NUMERIC_OID = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/;
