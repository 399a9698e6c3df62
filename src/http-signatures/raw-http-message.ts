import { HttpSignatureError, quoteInput } from './http-signature.error';
import type { HttpMessageView } from './http-message';

export interface RawHttpMessage {
  readonly view: HttpMessageView;
  readonly body: Buffer;
}

export interface RawHttpMessageOptions {
  /** Scheme of the connection ('https' | 'http'); the text of an origin-form request cannot tell. */
  readonly scheme?: string;
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/\d\.\d$/;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})(?: .*)?$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;

/**
 * Turns the text of an HTTP/1.1 message (CRLF or LF line ends, as printed in
 * RFCs and as saved by tools) into a view and body, for tests and the CLI.
 * Header continuation lines (obs-fold) are kept in the value as "\n" plus the
 * line, so the signature base collapses them the way RFC 9421 §2.1 says.
 * Authority: the Host field, else the authority of an absolute-form target.
 */
export function parseRawHttpMessage(text: string, options: RawHttpMessageOptions = {}): RawHttpMessage {
  if (typeof text !== 'string')
    throw new HttpSignatureError('MALFORMED_SIGNATURE', 'the message must be text');
  const blank = /\r?\n\r?\n/.exec(text);
  const head = blank === null ? text : text.slice(0, blank.index);
  const body =
    blank === null ? Buffer.alloc(0) : Buffer.from(text.slice(blank.index + blank[0].length), 'utf8');
  const lines = head.split(/\r?\n/);
  const first = lines[0] ?? '';

  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if ((line.startsWith(' ') || line.startsWith('\t')) && rawHeaders.length > 0) {
      rawHeaders[rawHeaders.length - 1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new HttpSignatureError('MALFORMED_SIGNATURE', `bad header line ${quoteInput(line)}`);
    }
    rawHeaders.push(line.slice(0, colon), line.slice(colon + 1));
  }

  const status = STATUS_LINE.exec(first);
  if (status !== null) return { view: { status: Number(status[1]), rawHeaders }, body };

  const request = REQUEST_LINE.exec(first);
  if (request === null) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', `bad start line ${quoteInput(first)}`);
  }
  const [, method, target] = request;
  const absolute = ABSOLUTE.exec(target);
  let authority: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'host') authority = rawHeaders[i + 1].trim().toLowerCase();
  }
  if (authority === undefined && absolute !== null) authority = absolute[2].toLowerCase();
  const scheme = options.scheme ?? absolute?.[1].toLowerCase();
  return { view: { method, target, scheme, authority, rawHeaders }, body };
}
