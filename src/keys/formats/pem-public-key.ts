/** Public keys as PEM: SPKI ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY"). */
import { createPublicKey, KeyObject } from 'node:crypto';
import {
  ACCEPTED_FORMATS,
  fail,
  invalid,
  NEW_KEY_HINT,
  quote,
  SUPPORTED_TYPES,
  unsupportedTypeName,
} from './format-checks';
import { parsePemEnvelope } from './pem-envelope';
import type { PublicJwkMembers } from './public-key.types';

/** The public members of one SPKI or PKCS#1 PEM block; certificates and private keys are refused with the fix. */
export function membersFromPem(text: string): PublicJwkMembers {
  const { label, der } = parsePemEnvelope(text, 'public key');
  let type: 'spki' | 'pkcs1';
  if (label === 'PUBLIC KEY') type = 'spki';
  else if (label === 'RSA PUBLIC KEY') type = 'pkcs1';
  else if (label === 'CERTIFICATE' || label === 'X509 CERTIFICATE' || label === 'TRUSTED CERTIFICATE') {
    throw invalid(
      'This is a certificate, not a public key. Extract its public key with ' +
        '`openssl x509 -in <cert file> -pubkey -noout` and paste that.',
    );
  } else {
    throw invalid(`A "${label}" PEM block is not a public key. ${ACCEPTED_FORMATS}`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: der, format: 'der', type });
  } catch (cause) {
    throw invalid(`The "${label}" PEM block does not hold a valid public key. ${ACCEPTED_FORMATS}`, cause);
  }
  return membersFromKeyObject(keyObject);
}

/** JWK members of a KeyObject parsed from DER, after checking its type and curve. */
export function membersFromKeyObject(key: KeyObject): PublicJwkMembers {
  const type = key.asymmetricKeyType;
  if (type === 'rsa-pss') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      'RSA-PSS-restricted keys (OID id-RSASSA-PSS) are not accepted. Paste the same key as a plain RSA ' +
        'public key ("rsaEncryption") and choose the algorithm rsa-pss-sha512 when registering it.',
    );
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1' && curve !== 'secp384r1') {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `EC keys on ${curve === undefined ? 'explicit or unknown curve parameters' : `curve ${quote(curve)}`} ` +
          `are not supported; use P-256 or P-384. ${NEW_KEY_HINT}`,
      );
    }
  }
  if (type !== 'ed25519' && type !== 'ec' && type !== 'rsa') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `${unsupportedTypeName(type)} keys are not supported; use ${SUPPORTED_TYPES}. ${NEW_KEY_HINT}`,
    );
  }
  const jwk = key.export({ format: 'jwk' });
  if (type === 'ed25519') return { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) };
  if (type === 'rsa') return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) };
  return { kty: 'EC', crv: jwk.crv === 'P-384' ? 'P-384' : 'P-256', x: String(jwk.x), y: String(jwk.y) };
}
