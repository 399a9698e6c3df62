/*
 * ECDSA signature encodings for Cavage. The draft never says how an ECDSA
 * signature is encoded. The reference implementation of its authors
 * (joyent/node-http-signature, through sshpk) and Go's go-fed/httpsig emit the
 * ASN.1 DER SEQUENCE { r, s } that OpenSSL and Java produce by default, while
 * some newer libraries (http-message-signatures) reuse RFC 9421's fixed-size
 * r||s. So the verifier accepts both (a fixed-size value is tried as r||s first,
 * anything else must be strict DER) and the signer emits DER unless told
 * otherwise. RFC 9421 itself is always r||s.
 */

/** Converts a strict DER ECDSA-Sig-Value to r||s of `size` bytes each, or undefined. */
export function ecdsaDerToP1363(der: Uint8Array, size: number): Buffer | undefined {
  // SEQUENCE, short-form length (at most 2 * (2 + 1 + 66) bytes for P-521: never long form here).
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2 || der[1] >= 0x80) return undefined;
  const out = Buffer.alloc(size * 2);
  let pos = 2;
  for (let part = 0; part < 2; part++) {
    if (der[pos] !== 0x02) return undefined;
    const len = der[pos + 1];
    pos += 2;
    if (len === undefined || len === 0 || len > size + 1 || pos + len > der.length) return undefined;
    // Minimal positive INTEGER: no sign bit, no superfluous leading zero.
    if ((der[pos] & 0x80) !== 0) return undefined;
    if (len > 1 && der[pos] === 0x00 && (der[pos + 1] & 0x80) === 0) return undefined;
    let value = der.subarray(pos, pos + len);
    if (value[0] === 0x00) value = value.subarray(1);
    if (value.length > size) return undefined;
    out.set(value, part * size + (size - value.length));
    pos += len;
  }
  return pos === der.length ? out : undefined;
}

/** Converts r||s (two halves of equal size) to DER. */
export function ecdsaP1363ToDer(signature: Uint8Array): Buffer {
  const size = signature.length / 2;
  const integer = (bytes: Uint8Array): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body =
      (trimmed[0] & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const r = integer(signature.subarray(0, size));
  const s = integer(signature.subarray(size));
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}
