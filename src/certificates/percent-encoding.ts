/**
 * Strict percent-decoding for URL-encoded PEM. decodeURIComponent would accept
 * any raw character and fail only on bad UTF-8; here each proxy's encoder is
 * known, so a raw character that this proxy would have escaped means the value
 * was not produced by it.
 *
 * `+` is never turned into a space: this is not form encoding, and AWS ALB
 * leaves `+` (a base64 character) unescaped on purpose.
 */

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** Characters each encoder leaves unescaped. */
export const PERCENT_SAFE_SETS = {
  /**
   * nginx ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT): unreserved, and since
   * nginx 1.21.x also `!'()*` (older versions escape those too).
   */
  nginx: `${UNRESERVED}!'()*`,
  /** Envoy: older releases escaped only "\n", " ", "+", "/", "="; newer ones escape all but unreserved. */
  envoy: UNRESERVED,
  /** AWS ALB: "URL-encoded PEM format, with +=/ as safe characters". */
  awsAlb: `${UNRESERVED}+=/`,
} as const;

export class PercentDecodingError extends Error {
  override readonly name = 'PercentDecodingError';
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decodes %XX escapes; raw characters must be in `safe`; the result must be ASCII. */
export function percentDecodeAscii(value: string, safe: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!HEX.test(hex)) throw new PercentDecodingError('invalid percent escape');
      const byte = parseInt(hex, 16);
      if (byte > 0x7f) throw new PercentDecodingError('non-ASCII byte in percent escape');
      out += String.fromCharCode(byte);
      i += 2;
    } else if (safe.includes(ch)) {
      out += ch;
    } else {
      throw new PercentDecodingError('character that this encoder escapes appears unescaped');
    }
  }
  return out;
}

/** The encoding each proxy applies, for tests and for tools that simulate a proxy. */
export function percentEncodeAscii(value: string, safe: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (code > 0x7f) throw new PercentDecodingError('non-ASCII input');
    out += safe.includes(ch) ? ch : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
