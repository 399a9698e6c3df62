/**
 * Decodes canonical standard base64 (padding required, no whitespace, unused bits
 * zero) or returns undefined. Buffer.from(…, 'base64') and atob both accept
 * sloppy input, which would let several header values stand for one signature;
 * Node's encoder is canonical, so a value is canonical exactly when it survives
 * a round trip.
 */
export function decodeStrictBase64(input: string): Buffer | undefined {
  if (input.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(input, 'base64');
  return bytes.toString('base64') === input ? bytes : undefined;
}
