/**
 * The PEM envelope (RFC 7468), read strictly: exactly one block, nothing around it, no
 * legacy encryption headers, canonical base64, and a body that is one DER SEQUENCE.
 * Hand-written because node:crypto accepts junk around a block and several blocks.
 */
import { invalid } from './format-checks';

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** Exactly one PEM block, nothing around it, no headers, strict base64 body. */
export function parsePemEnvelope(text: string, what: string): PemBlock {
  if (/^-{4} ?BEGIN SSH2 PUBLIC KEY/m.test(text)) {
    throw invalid(
      'This is an SSH2 (RFC 4716, PuTTY) public key. Convert it to an OpenSSH line with ' +
        '`ssh-keygen -i -f <file>` and paste that.',
    );
  }
  if (text.includes('\\n')) {
    throw invalid(
      `The ${what} contains literal "\\n" sequences; it was probably copied from a JSON string or an ` +
        'environment variable. Replace them with real line breaks.',
    );
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  const ends = text.match(/-----END /g)?.length ?? 0;
  if (begins > 1 || ends > 1) {
    throw invalid(`The input contains ${Math.max(begins, ends)} PEM blocks; paste exactly one ${what}.`);
  }
  if (!text.startsWith('-----BEGIN ')) {
    throw invalid(`There is text before the "-----BEGIN" line; paste only the ${what} PEM block.`);
  }
  const match = /^-----BEGIN ([A-Z0-9 ]{1,40})-----([\s\S]*?)-----END ([A-Z0-9 ]{1,40})-----$/.exec(text);
  if (match === null) {
    throw invalid(
      ends === 0
        ? `The PEM block has no matching "-----END" line; paste the whole ${what}.`
        : `The PEM block is malformed or has text after the "-----END" line; paste only the ${what} PEM block.`,
    );
  }
  const [, label, body, endLabel] = match;
  if (label !== endLabel) {
    throw invalid(
      `The PEM block begins with "${label}" but ends with "${endLabel}"; paste one complete block.`,
    );
  }
  if (/Proc-Type:|DEK-Info:/.test(body)) {
    throw invalid(
      'Legacy PEM encryption ("Proc-Type: 4,ENCRYPTED") is not supported. Convert the key to encrypted ' +
        'PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in <key file> -out <new file>`.',
    );
  }
  const base64 = body.replace(/[ \t\r\n]+/g, '');
  if (
    !/^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/.test(
      base64,
    )
  ) {
    throw invalid(`The body of the "${label}" PEM block is not valid base64; paste the block unmodified.`);
  }
  const der = Buffer.from(base64, 'base64');
  if (der.toString('base64') !== base64) {
    throw invalid(
      `The body of the "${label}" PEM block is not canonical base64; paste the block unmodified.`,
    );
  }
  assertSingleDerSequence(der, label);
  return { label, der };
}

/** The DER must be one SEQUENCE with a minimal length that spans the whole buffer. */
export function assertSingleDerSequence(der: Buffer, label: string): void {
  const bad = (why: string) =>
    invalid(`The "${label}" PEM block is not valid DER: ${why}. Paste the block unmodified.`);
  if (der.length < 2 || der[0] !== 0x30) throw bad('it does not start with a SEQUENCE');
  let length = der[1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw bad('unsupported length encoding');
    if (der.length < 2 + count) throw bad('it is truncated');
    if (der[2] === 0) throw bad('non-minimal length');
    length = der.readUIntBE(2, count);
    if (length < 0x80) throw bad('non-minimal length');
    header = 2 + count;
  }
  if (header + length > der.length) throw bad('it is truncated');
  if (header + length < der.length)
    throw bad(`${der.length - header - length} trailing byte(s) after the key`);
}
