import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { isKeyAlgorithm, KEY_ALGORITHMS, KeyAlgorithm } from '../keys/key-algorithm';
import { ROLE_PATTERN, USERNAME_PATTERN } from '../keys/user-directory.interface';
import { CliError } from './cli-error';
import { redactUrl } from '../client/redact-url';

// Argument parsers for commander: each returns the parsed value or throws an
// InvalidArgumentError whose message says what to write instead. They run before
// any command opens a database, reads a key or sends a request.

/** `--roles a,b` → ['a', 'b'] (blanks dropped), each a valid role name. */
export function commaList(value: string): string[] {
  const roles = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (roles.length === 0)
    throw new InvalidArgumentError(
      'Give comma-separated role names, e.g. --roles reader,admin, or leave --roles out.',
    );
  const bad = roles.find((role) => !ROLE_PATTERN.test(role));
  if (bad !== undefined)
    throw new InvalidArgumentError(
      `${JSON.stringify(bad)} is not a role name: roles are 1-64 letters, digits and : . _ - (e.g. reader,admin).`,
    );
  if (roles.length > 64) throw new InvalidArgumentError('Give at most 64 roles.');
  return roles;
}

/** A username as `users add` accepts it. */
export function usernameArgument(value: string): string {
  if (!USERNAME_PATTERN.test(value))
    throw new InvalidArgumentError(
      'Usernames are 1-128 characters of lowercase a-z, 0-9 and . _ @ + -, starting with a letter or digit (e.g. alice).',
    );
  return value;
}

/** `--alg NAME`: one of the key algorithms. */
export function keyAlgorithmArgument(value: string): KeyAlgorithm {
  if (!isKeyAlgorithm(value))
    throw new InvalidArgumentError(`Write one of ${KEY_ALGORITHMS.join(', ')} (or leave --alg out).`);
  return value;
}

export const KEY_TYPES = ['ed25519', 'p256', 'p384', 'rsa'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** `keygen --type`. */
export function keyTypeArgument(value: string): KeyType {
  if (!(KEY_TYPES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`Write one of ${KEY_TYPES.join(', ')}.`);
  return value as KeyType;
}

/** true/false (yes/no too); anything else is an error, never a silent false. */
export function booleanArgument(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw new InvalidArgumentError('Write true or false (yes and no work too).');
}

const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Whether the date part (and the hour, minute and second) names a real moment: JavaScript
 * reads 2030-02-31 as 2030-03-03 and 24:00 as the next day, so the fields are read back.
 */
function isCalendarDate(value: string): boolean {
  const [, y, mo, d, h, mi, s] =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/i.exec(value) ?? [];
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day)
    return false;
  return (
    (h === undefined || Number(h) <= 23) &&
    (mi === undefined || Number(mi) <= 59) &&
    (s === undefined || Number(s) <= 59)
  );
}

/** `--expires`: an ISO 8601 date or date-time in the future, on a real calendar day. */
export function futureDateArgument(value: string): Date {
  const example = 'e.g. 2030-01-31 (midnight UTC) or 2030-01-31T18:00:00Z';
  const date = ISO_8601.test(value.trim()) ? new Date(value.trim()) : undefined;
  if (date === undefined || Number.isNaN(date.getTime()))
    throw new InvalidArgumentError(`Write an ISO 8601 date or date-time in the future, ${example}.`);
  if (!isCalendarDate(value.trim()))
    throw new InvalidArgumentError(
      `${value.trim()} is not a real date and time (check the length of the month; hours run 00-23): ${example}.`,
    );
  if (date.getTime() <= Date.now())
    throw new InvalidArgumentError(
      `That time has passed: give a date or date-time in the future, ${example}.`,
    );
  return date;
}

const MAX_HOURS = 24 * 366 * 10;

/** `--hours`: a positive number of hours, at most ten years. */
export function hoursArgument(value: string): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_HOURS)
    throw new InvalidArgumentError(
      `Write a positive number of hours, at most ${MAX_HOURS} (e.g. --hours 12).`,
    );
  return n;
}

/**
 * An absolute http:// or https:// URL, without a user name or password in it: the CLI
 * authenticates with --key, and would repeat such a URL in its messages. That refusal is a
 * CliError, not an InvalidArgumentError, because commander's message would quote the value.
 */
export function httpUrlArgument(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new InvalidArgumentError(
      'Write an absolute http:// or https:// URL, e.g. http://127.0.0.1:3000/whoami.',
    );
  if (url.username || url.password)
    throw new CliError(
      `the URL ${redactUrl(value)} has a user name or password in it: the CLI signs in with --key, and does not ` +
        'send or repeat URL credentials. Remove the USER:PASSWORD@ part.',
    );
  return value;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `-H 'Name: value'` (repeatable). */
export function headerArgument(value: string, previous: string[] = []): string[] {
  const colon = value.indexOf(':');
  const name = colon > 0 ? value.slice(0, colon).trim() : '';
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value))
    throw new InvalidArgumentError(`Write a header as "Name: value", e.g. -H 'Idempotency-Key: 42'.`);
  return [...previous, value];
}

/** An HTTP method: GET, POST, … (upper-cased). */
export function httpMethodArgument(value: string): string {
  if (/^https?:\/\//i.test(value))
    throw new InvalidArgumentError(
      'The method comes first: request GET http://127.0.0.1:3000/whoami --key alice.key.',
    );
  if (!TOKEN.test(value))
    throw new InvalidArgumentError('Write an HTTP method, e.g. GET, POST, PUT, DELETE.');
  return value.toUpperCase();
}

/** A keyId: 1-255 printable ASCII characters without spaces. */
export function keyIdArgument(value: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(value))
    throw new InvalidArgumentError(
      'A keyId is 1-255 printable ASCII characters without spaces (e.g. alice-laptop).',
    );
  return value;
}

/** A file that must exist (a key, a certificate). */
export function existingFile(what: string): (value: string) => string {
  return (value) => {
    if (!existsSync(value))
      throw new InvalidArgumentError(`There is no file ${value}: give the path of ${what}.`);
    if (!statSync(value).isFile())
      throw new InvalidArgumentError(`${value} is not a file: give the path of ${what}.`);
    return value;
  };
}

/** A certificate fingerprint: 64 hex digits, colons allowed (as openssl prints it) → lower-case hex. */
export function fingerprintArgument(value: string): string {
  const compact = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/.test(value) ? value.replace(/:/g, '') : value;
  if (!/^[0-9a-fA-F]{64}$/.test(compact))
    throw new InvalidArgumentError(
      'Write the fingerprint as a SHA-256 in hex (64 digits, colons allowed), as `certs add` or `certs list` prints it.',
    );
  return compact.toLowerCase();
}

/** A certificate serial number in hex, as `ca issue` prints it. */
export function serialArgument(value: string): string {
  if (!/^[0-9a-fA-F]{1,40}$/.test(value.replace(/:/g, '')))
    throw new InvalidArgumentError('Write the serial number in hex, as `ca issue` prints it (serialNumber).');
  return value;
}

/** `--email` (repeatable). */
export function emailArgument(value: string, previous: string[] = []): string[] {
  if (!/^[^\s@]+@[^\s@]+$/.test(value))
    throw new InvalidArgumentError('Write an email address, e.g. alice@example.com.');
  return [...previous, value];
}

/** `--dns` (repeatable). */
export function dnsNameArgument(value: string, previous: string[] = []): string[] {
  if (
    !/^(?=.{1,253}$)(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(value)
  )
    throw new InvalidArgumentError('Write a DNS name, e.g. api.example.com.');
  return [...previous, value];
}

/** `--uri` (repeatable). */
export function uriArgument(value: string, previous: string[] = []): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(value))
    throw new InvalidArgumentError('Write an absolute URI, e.g. spiffe://example.org/alice.');
  return [...previous, value];
}
