/**
 * OpenSSH public key lines (`ssh-ed25519 AAAA… comment`, as in `id_ed25519.pub` or
 * `authorized_keys`), parsed and written by hand.
 *
 * Why hand-written: node:crypto cannot read the SSH wire format, and no maintained,
 * small library does just this: the candidates (sshpk, ssh2) are large multi-format SSH
 * libraries that would add far more parsing surface than this file to the server's
 * registration path. (The client reads OpenSSH *private* keys with ssh2, an optional
 * peer that the server never loads.) The format is tiny (RFC 4253 §6.6, RFC 5656 §3.1,
 * RFC 8709 §4): a few length-prefixed strings and mpints. This parser is strict where
 * OpenSSH itself is lenient: exact lengths, no trailing bytes, minimal positive mpints,
 * canonical base64, the outer key-type name equal to the one inside the blob, and the
 * curve name equal to the key type's. The key material is then handed to node:crypto
 * as a JWK, which checks that EC points are on their curve.
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { describeInputPrefix, KeyFormatError } from './key-format.error';
import type { PublicJwkMembers } from './public-key.types';

export const OPENSSH_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ssh-rsa',
] as const;
export type OpenSshKeyType = (typeof OPENSSH_KEY_TYPES)[number];

export interface OpenSshPublicKey {
  readonly keyType: OpenSshKeyType;
  /** The public key as JWK members (what the blob holds, nothing else). */
  readonly jwk: PublicJwkMembers;
  /** node:crypto public key built from `jwk`. */
  readonly keyObject: KeyObject;
  /** The free-text comment after the key, if any (often user@host; not validated). */
  readonly comment?: string;
}

/** Key types that OpenSSH knows and that are refused as unsupported rather than unparsable. */
const UNSUPPORTED_TYPES: ReadonlyMap<string, string> = new Map([
  ['ssh-dss', 'DSA keys are deprecated and disabled in OpenSSH itself'],
  ['ecdsa-sha2-nistp521', 'ECDSA P-521 keys are not supported (only P-256 and P-384)'],
  ['ssh-ed448', 'Ed448 keys are not supported'],
  ['sk-ssh-ed25519@openssh.com', "FIDO security-key (sk-) keys only sign in SSH's own format"],
  ['sk-ecdsa-sha2-nistp256@openssh.com', "FIDO security-key (sk-) keys only sign in SSH's own format"],
]);

const CURVES = {
  'ecdsa-sha2-nistp256': { curveName: 'nistp256', crv: 'P-256', size: 32 },
  'ecdsa-sha2-nistp384': { curveName: 'nistp384', crv: 'P-384', size: 48 },
} as const;

/** node:crypto curve names of the supported ECDSA curves. */
const SSH_TYPE_BY_NODE_CURVE: ReadonlyMap<string, keyof typeof CURVES> = new Map([
  ['prime256v1', 'ecdsa-sha2-nistp256'],
  ['secp384r1', 'ecdsa-sha2-nistp384'],
]);

const FIX_HINT =
  'Paste the single line from your .pub file (for example `ssh-ed25519 AAAA… you@host`), ' +
  'or print it with `ssh-keygen -y -f <private key file>`.';

function invalid(message: string): KeyFormatError {
  return new KeyFormatError('KEY_FORMAT_INVALID', message);
}

/** Reads RFC 4251 §5 `string`, `uint32` and `mpint` values, strictly. */
class WireReader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  uint32(what: string): number {
    if (this.data.length - this.offset < 4) {
      throw invalid(
        `The OpenSSH key data is truncated: it ends inside the length of the ${what}. ${FIX_HINT}`,
      );
    }
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  string(what: string): Buffer {
    const length = this.uint32(what);
    if (length > this.data.length - this.offset) {
      throw invalid(
        `The OpenSSH key data is truncated: the ${what} claims ${length} bytes but only ` +
          `${this.data.length - this.offset} remain. ${FIX_HINT}`,
      );
    }
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A positive mpint in its minimal two's-complement form; returns the unsigned magnitude. */
  positiveMpint(what: string): Buffer {
    const raw = this.string(what);
    if (raw.length === 0) throw invalid(`The RSA ${what} in the OpenSSH key is zero. ${FIX_HINT}`);
    if (raw[0] & 0x80) throw invalid(`The RSA ${what} in the OpenSSH key is negative. ${FIX_HINT}`);
    if (raw[0] === 0 && (raw.length === 1 || (raw[1] & 0x80) === 0)) {
      throw invalid(`The RSA ${what} in the OpenSSH key has redundant leading zero bytes. ${FIX_HINT}`);
    }
    return raw[0] === 0 ? raw.subarray(1) : raw;
  }

  end(): void {
    const rest = this.data.length - this.offset;
    if (rest !== 0) {
      throw invalid(
        `The OpenSSH key data has ${rest} unexpected trailing byte(s) after the key. ${FIX_HINT}`,
      );
    }
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64Strict(text: string): Buffer {
  if (!BASE64.test(text)) {
    throw invalid(`The base64 part of the OpenSSH key is not valid (padded) base64. ${FIX_HINT}`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw invalid(`The base64 part of the OpenSSH key is not canonical base64. ${FIX_HINT}`);
  }
  return bytes;
}

function isSupportedType(name: string): name is OpenSshKeyType {
  return (OPENSSH_KEY_TYPES as readonly string[]).includes(name);
}

function refuseUnknownType(name: string, line: string): never {
  const reason =
    UNSUPPORTED_TYPES.get(name) ??
    (name.endsWith('-cert-v01@openssh.com')
      ? 'OpenSSH certificates are not accepted; register the plain public key the certificate was issued for'
      : name.startsWith('x509v3-')
        ? 'X.509 SSH keys are not accepted'
        : undefined);
  if (reason !== undefined) {
    throw new KeyFormatError(
      'KEY_TYPE_UNSUPPORTED',
      `Unsupported OpenSSH key type "${name}": ${reason}. ` +
        'Use ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ssh-rsa (2048 bits or more); ' +
        'create one with `ssh-keygen -t ed25519`.',
    );
  }
  if (/(^|[ \t])(ssh-ed25519|ecdsa-sha2-nistp(256|384)|ssh-rsa)[ \t]+AAAA/.test(line)) {
    throw invalid(
      'The line starts with authorized_keys options before the key type. ' +
        'Remove everything before the key type (ssh-ed25519, ecdsa-sha2-…, ssh-rsa) and paste the rest.',
    );
  }
  throw invalid(
    `The input starting with ${describeInputPrefix(line)} is not an OpenSSH public key: its first word is not ` +
      `one of ${OPENSSH_KEY_TYPES.join(', ')}. ${FIX_HINT}`,
  );
}

/**
 * Decodes the binary public key blob (the base64 part of the line). `outerType` is the
 * key-type name written before the base64 and must equal the one inside.
 */
export function decodeOpenSshPublicKeyBlob(blob: Uint8Array, outerType: OpenSshKeyType): PublicJwkMembers {
  const reader = new WireReader(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
  const innerType = reader.string('key type name').toString('latin1');
  if (innerType !== outerType) {
    throw invalid(
      `The OpenSSH key says "${outerType}" outside but its data ${
        isSupportedType(innerType) ? `holds a "${innerType}" key` : 'holds a different key type'
      }; the line has been edited or assembled from two keys. ${FIX_HINT}`,
    );
  }
  let jwk: PublicJwkMembers;
  if (outerType === 'ssh-ed25519') {
    const point = reader.string('Ed25519 public key');
    if (point.length !== 32) {
      throw invalid(
        `The Ed25519 public key in the OpenSSH line is ${point.length} bytes; it must be 32. ${FIX_HINT}`,
      );
    }
    jwk = { kty: 'OKP', crv: 'Ed25519', x: point.toString('base64url') };
  } else if (outerType === 'ssh-rsa') {
    const e = reader.positiveMpint('public exponent');
    const n = reader.positiveMpint('modulus');
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else {
    const { curveName, crv, size } = CURVES[outerType];
    const curve = reader.string('curve name').toString('latin1');
    if (curve !== curveName) {
      throw invalid(
        `The OpenSSH key says "${outerType}" but names the curve ${
          /^[a-z0-9-]{1,20}$/.test(curve) ? `"${curve}"` : 'differently'
        } inside (expected "${curveName}"). ${FIX_HINT}`,
      );
    }
    const q = reader.string('EC point');
    if (q.length === size + 1 && (q[0] === 2 || q[0] === 3)) {
      throw invalid(
        `The ${crv} point in the OpenSSH key is compressed; OpenSSH keys use uncompressed points. ${FIX_HINT}`,
      );
    }
    if (q.length !== 2 * size + 1 || q[0] !== 4) {
      throw invalid(
        `The ${crv} point in the OpenSSH key must be ${2 * size + 1} bytes starting with 0x04 ` +
          `(uncompressed); it is ${q.length} bytes. ${FIX_HINT}`,
      );
    }
    jwk = {
      kty: 'EC',
      crv,
      x: q.subarray(1, 1 + size).toString('base64url'),
      y: q.subarray(1 + size).toString('base64url'),
    };
  }
  reader.end();
  return jwk;
}

/**
 * Parses one OpenSSH public key line: `<key type> <base64 blob> [comment]`. Throws
 * {@link KeyFormatError} for anything else. Key strength (RSA size and exponent) is
 * not judged here; `parsePublicKey` in key-formats does that for every format.
 */
export function parseOpenSshPublicKey(line: string): OpenSshPublicKey {
  if (typeof line !== 'string') throw invalid(`An OpenSSH public key must be a string. ${FIX_HINT}`);
  const text = line.trim();
  if (/[\r\n]/.test(text)) {
    throw invalid(`The input has more than one line; paste exactly one OpenSSH public key. ${FIX_HINT}`);
  }
  const match = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(text);
  if (match === null) {
    throw invalid(`An OpenSSH public key is "<key type> <base64> [comment]" on one line. ${FIX_HINT}`);
  }
  const [, typeName, base64, comment] = match;
  if (!isSupportedType(typeName)) refuseUnknownType(typeName, text);
  const jwk = decodeOpenSshPublicKeyBlob(decodeBase64Strict(base64), typeName);
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new KeyFormatError(
      'KEY_FORMAT_INVALID',
      `The ${typeName} key in the OpenSSH line is not a valid public key` +
        `${jwk.kty === 'EC' ? ' (the point is not on the curve)' : ''}. ${FIX_HINT}`,
      { cause },
    );
  }
  return comment === undefined
    ? { keyType: typeName, jwk, keyObject }
    : { keyType: typeName, jwk, keyObject, comment };
}

function wireString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function wireMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return wireString(
    trimmed.length > 0 && trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed,
  );
}

/**
 * Writes a public key (Ed25519, P-256, P-384 or RSA) as an OpenSSH public key line, the
 * form `ssh-keygen -y` prints. A comment, if given, must be a single line.
 */
export function encodeOpenSshPublicKey(key: KeyObject, comment?: string): string {
  try {
    return encode(key, comment);
  } catch (cause) {
    if (cause instanceof KeyFormatError) throw cause;
    throw new KeyFormatError('KEY_FORMAT_INVALID', 'The key could not be written as an OpenSSH public key.', {
      cause,
    });
  }
}

function encode(key: KeyObject, comment: string | undefined): string {
  if (!(key instanceof KeyObject) || key.type === 'secret') {
    throw invalid('encodeOpenSshPublicKey needs a public or private asymmetric KeyObject.');
  }
  if (comment !== undefined && (typeof comment !== 'string' || /[\r\n\0]/.test(comment))) {
    throw invalid('An OpenSSH key comment must be a single line of text.');
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const type = publicKey.asymmetricKeyType;
  let typeName: OpenSshKeyType;
  let parts: Buffer[];
  if (type === 'ed25519') {
    const jwk = publicKey.export({ format: 'jwk' });
    typeName = 'ssh-ed25519';
    parts = [wireString(Buffer.from(jwk.x ?? '', 'base64url'))];
  } else if (type === 'rsa') {
    const jwk = publicKey.export({ format: 'jwk' });
    typeName = 'ssh-rsa';
    parts = [
      wireMpint(Buffer.from(jwk.e ?? '', 'base64url')),
      wireMpint(Buffer.from(jwk.n ?? '', 'base64url')),
    ];
  } else if (type === 'ec' && SSH_TYPE_BY_NODE_CURVE.has(publicKey.asymmetricKeyDetails?.namedCurve ?? '')) {
    const sshType = SSH_TYPE_BY_NODE_CURVE.get(
      publicKey.asymmetricKeyDetails?.namedCurve ?? '',
    ) as keyof typeof CURVES;
    const jwk = publicKey.export({ format: 'jwk' });
    typeName = sshType;
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x ?? '', 'base64url'),
      Buffer.from(jwk.y ?? '', 'base64url'),
    ]);
    parts = [wireString(CURVES[sshType].curveName), wireString(point)];
  } else {
    throw new KeyFormatError(
      'KEY_TYPE_UNSUPPORTED',
      `Only Ed25519, ECDSA P-256/P-384 and RSA keys can be written as OpenSSH keys (got ${String(type)}).`,
    );
  }
  const blob = Buffer.concat([wireString(typeName), ...parts]).toString('base64');
  return comment === undefined || comment === '' ? `${typeName} ${blob}` : `${typeName} ${blob} ${comment}`;
}
