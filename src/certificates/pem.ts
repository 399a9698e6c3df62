/**
 * Strict PEM (RFC 7468 "strict" profile) and base64 handling. Node's
 * X509Certificate happily takes the first block out of a PEM blob with junk
 * around it, and Buffer.from(x, 'base64') skips invalid characters; a header
 * that smuggles a second certificate or trailing text must be refused instead.
 */

const BASE64_CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]{1,76}$/;

export class PemError extends Error {
  override readonly name = 'PemError';
}

/**
 * Decodes canonical, padded standard base64: no whitespace, no URL alphabet,
 * padding exactly where needed and no non-zero bits hidden in the last symbol.
 */
export function decodeBase64Strict(text: string): Buffer {
  if (text.length === 0 || !BASE64_CANONICAL.test(text)) throw new PemError('not canonical base64');
  const bytes = Buffer.from(text, 'base64');
  // Re-encoding catches non-zero trailing bits (e.g. "QR==" decodes like "QQ==").
  if (bytes.toString('base64') !== text) throw new PemError('not canonical base64');
  return bytes;
}

export interface PemParseOptions {
  /** PEM label, e.g. CERTIFICATE or X509 CRL. */
  readonly label: string;
  /** What separates lines: '\n' for real PEM, ' ' for Apache's unwrapped header form. */
  readonly separator: '\n' | ' ';
  readonly minBlocks: number;
  readonly maxBlocks: number;
}

/**
 * Parses text that consists of PEM blocks and nothing else: each block is
 * BEGIN line, base64 lines of 1..76 characters, END line; blocks and lines are
 * separated by exactly one separator; one trailing separator is allowed.
 * Explanatory text, blank lines, headers (Proc-Type) and other labels are refused.
 * (A sticky regular expression rather than a split, because with Apache's
 * space separator the BEGIN/END lines themselves contain the separator.)
 */
export function parsePemBlocks(text: string, options: PemParseOptions): Buffer[] {
  const sep = options.separator === '\n' ? '\\n' : ' ';
  const label = options.label.replace(/[^A-Z0-9 ]/g, '');
  // Lines cannot contain the separator, so this cannot backtrack catastrophically.
  const block = new RegExp(
    `-----BEGIN ${label}-----${sep}((?:[A-Za-z0-9+/=]{1,76}${sep})+)-----END ${label}-----`,
    'y',
  );
  const blocks: Buffer[] = [];
  let pos = 0;
  while (pos < text.length) {
    block.lastIndex = pos;
    const match = block.exec(text);
    if (match === null) throw new PemError('not a well-formed PEM block');
    const base64 = match[1].split(options.separator).join('');
    blocks.push(decodeBase64Strict(base64));
    if (blocks.length > options.maxBlocks) throw new PemError('too many PEM blocks');
    pos = block.lastIndex;
    if (pos < text.length) {
      if (text[pos] !== options.separator) throw new PemError('unexpected text after a PEM block');
      pos++;
    }
  }
  if (blocks.length < options.minBlocks) throw new PemError('too few PEM blocks');
  return blocks;
}

/**
 * Lenient reader for configuration files (CA bundles, CRL files) written by
 * the operator, not by a client: RFC 7468 explanatory text between blocks and
 * CRLF line ends are tolerated (cacert.pem-style bundles have comments), but
 * every block with the label must itself be strictly valid, and a stray
 * BEGIN/END line or a block with another label is an error.
 */
export function parsePemFile(text: string, label: string): Buffer[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: Buffer[] = [];
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    i++;
    if (!line.startsWith('-----')) continue;
    if (line !== begin) throw new PemError('unexpected PEM boundary or label');
    const base64: string[] = [];
    while (i < lines.length && lines[i].trim() !== end) {
      const b64 = lines[i].trim();
      if (!BASE64_LINE.test(b64)) throw new PemError('invalid base64 line');
      base64.push(b64);
      i++;
    }
    if (i >= lines.length) throw new PemError('missing END line');
    i++;
    blocks.push(decodeBase64Strict(base64.join('')));
  }
  return blocks;
}

/** Encodes DER as PEM with 64-character lines and a trailing newline, like OpenSSL. */
export function encodePem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
