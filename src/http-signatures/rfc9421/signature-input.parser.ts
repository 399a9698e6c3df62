import { isInnerList, type BareItem, type InnerList, type Item, type Parameters } from 'structured-headers';
import { HttpSignatureError, isHttpSignatureError, quoteInput } from '../http-signature.error';
import { getFieldLength, getFieldLines, getFieldValue, type HttpMessageView } from '../http-message';
import {
  isByteSequence,
  scanDictionary,
  type RawDictionaryMember,
  type ScannedDictionary,
} from '../structured-field';
import { checkComponent, sameComponent } from './component-identifier';
import {
  DEFAULT_RFC9421_LIMITS,
  type CoveredComponent,
  type Rfc9421Limits,
  type Rfc9421Signature,
  type SignatureParameters,
} from './rfc9421.types';

const SIGNATURE_INPUT = 'signature-input';
const SIGNATURE = 'signature';

function malformed(message: string): HttpSignatureError {
  return new HttpSignatureError('MALFORMED_SIGNATURE', message);
}

/** True when the message carries an RFC 9421 signature (a Signature-Input field). */
export function hasRfc9421Signature(view: HttpMessageView): boolean {
  return getFieldLines(view, SIGNATURE_INPUT) !== undefined;
}

function limit(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

function readDictionary(
  view: HttpMessageView,
  field: string,
  display: string,
  maxLength: number,
  maxMembers: number,
): ScannedDictionary {
  if (getFieldLength(view, field) > maxLength) {
    throw malformed(`${display} is longer than ${maxLength} characters`);
  }
  const scanned = scanDictionary(getFieldValue(view, field) ?? '');
  if (scanned === undefined) throw malformed(`${display} is not a structured dictionary`);
  const { members, parsed } = scanned;
  if (members.length !== parsed.size) {
    throw malformed(`${display} repeats the label ${quoteInput(firstDuplicate(members))}`);
  }
  if (members.length === 0) throw malformed(`${display} is empty`);
  if (members.length > maxMembers) throw malformed(`${display} has more than ${maxMembers} signatures`);
  return scanned;
}

function firstDuplicate(members: readonly RawDictionaryMember[]): string {
  const seen = new Set<string>();
  for (const { key } of members) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return '';
}

function integerParam(value: BareItem, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw malformed(`signature parameter "${name}" must be an integer`);
  }
  return value;
}

function stringParam(value: BareItem, name: string): string {
  if (typeof value !== 'string') throw malformed(`signature parameter "${name}" must be a string`);
  return value;
}

function signatureParameters(params: Parameters): SignatureParameters {
  const out: { -readonly [K in keyof SignatureParameters]: SignatureParameters[K] } = {};
  for (const [key, value] of params) {
    switch (key) {
      case 'created':
      case 'expires':
        out[key] = integerParam(value, key);
        break;
      case 'nonce':
      case 'alg':
      case 'keyid':
      case 'tag':
        out[key] = stringParam(value, key);
        break;
      default:
      // Unregistered parameters stay in the raw @signature-params value only.
    }
  }
  return out;
}

function coveredComponents(
  label: string,
  list: InnerList,
  member: RawDictionaryMember,
  max: number,
): CoveredComponent[] {
  const [items] = list;
  if (items.length > max) {
    throw malformed(`signature ${quoteInput(label)} covers more than ${max} components`);
  }
  if (member.repeatsParameter) throw malformed(`signature ${quoteInput(label)} repeats a parameter`);
  const components: CoveredComponent[] = [];
  for (const [name, params] of items) {
    if (typeof name !== 'string') {
      throw malformed(`signature ${quoteInput(label)} has a component identifier that is not a string`);
    }
    const component = checkComponent(name, params);
    if (components.some((other) => sameComponent(other, component))) {
      throw malformed(`signature ${quoteInput(label)} covers ${quoteInput(component.identifier)} twice`);
    }
    components.push(component);
  }
  return components;
}

function signatureBytes(label: string, member: Item | InnerList, raw: string): Buffer {
  if (isInnerList(member) || !isByteSequence(member[0])) {
    throw malformed(`Signature member ${quoteInput(label)} is not a byte sequence`);
  }
  // Byte sequences decode leniently (as atob does); the bytes count only if they re-encode to the text received.
  const bytes = Buffer.isBuffer(member[0]) ? member[0] : Buffer.from(member[0] as ArrayBuffer);
  if (bytes.length === 0 || bytes.toString('base64') !== raw.slice(1, raw.indexOf(':', 1))) {
    throw malformed(`Signature member ${quoteInput(label)} is not canonical non-empty base64`);
  }
  return bytes;
}

/**
 * Parses the Signature-Input and Signature fields of a message (RFC 9421 §4).
 * Returns [] when neither is present. Refuses: a field over the size limit, a
 * label repeated (within or across field lines) or present in only one field,
 * more signatures or components than the limits, non-string or repeated
 * component identifiers, repeated parameters, `;tr`, unknown component
 * parameters, and signatures that are not canonical base64.
 */
export function parseRfc9421(view: HttpMessageView, limits: Rfc9421Limits = {}): Rfc9421Signature[] {
  try {
    const hasInput = getFieldLines(view, SIGNATURE_INPUT) !== undefined;
    const hasSignature = getFieldLines(view, SIGNATURE) !== undefined;
    if (!hasInput && !hasSignature) return [];
    if (!hasInput) throw malformed('Signature is present without Signature-Input');
    if (!hasSignature) throw malformed('Signature-Input is present without Signature');

    const maxLength = limit(limits.maxHeaderLength, DEFAULT_RFC9421_LIMITS.maxHeaderLength);
    const maxSignatures = limit(limits.maxSignatures, DEFAULT_RFC9421_LIMITS.maxSignatures);
    const maxComponents = limit(limits.maxComponents, DEFAULT_RFC9421_LIMITS.maxComponents);
    const inputs = readDictionary(view, SIGNATURE_INPUT, 'Signature-Input', maxLength, maxSignatures);
    const signatures = readDictionary(view, SIGNATURE, 'Signature', maxLength, maxSignatures);

    for (const { key } of signatures.members) {
      if (!inputs.parsed.has(key)) {
        throw malformed(`Signature has label ${quoteInput(key)} that Signature-Input lacks`);
      }
    }
    const result: Rfc9421Signature[] = [];
    for (const member of inputs.members) {
      const { key: label, raw } = member;
      const input = inputs.parsed.get(label);
      const signature = signatures.parsed.get(label);
      if (signature === undefined) {
        throw malformed(`Signature-Input has label ${quoteInput(label)} that Signature lacks`);
      }
      if (input === undefined || !isInnerList(input)) {
        throw malformed(`Signature-Input member ${quoteInput(label)} is not an inner list`);
      }
      result.push({
        label,
        components: coveredComponents(label, input, member, maxComponents),
        params: signatureParameters(input[1]),
        signatureParamsValue: raw,
        signature: signatureBytes(
          label,
          signature,
          signatures.members.find((m) => m.key === label)?.raw ?? '',
        ),
      });
    }
    return result;
  } catch (error) {
    if (isHttpSignatureError(error)) throw error;
    throw malformed(`signature fields could not be parsed (${quoteInput(String(error))})`);
  }
}

/** Criteria for picking one signature; all given ones must match. */
export interface SignatureSelector {
  readonly label?: string;
  readonly tag?: string;
}

/**
 * The one signature matching the selector. Throws SIGNATURE_NOT_FOUND when none
 * matches or when several do (name a label or a tag to choose).
 */
export function selectSignature(
  parsed: readonly Rfc9421Signature[],
  selector: SignatureSelector = {},
): Rfc9421Signature {
  const matches = parsed.filter(
    (s) =>
      (selector.label === undefined || s.label === selector.label) &&
      (selector.tag === undefined || s.params.tag === selector.tag),
  );
  if (matches.length === 1) return matches[0];
  const wanted =
    selector.label === undefined && selector.tag === undefined
      ? ''
      : ` with${selector.label === undefined ? '' : ` label ${quoteInput(selector.label)}`}${
          selector.tag === undefined ? '' : ` tag ${quoteInput(selector.tag)}`
        }`;
  if (matches.length === 0) throw new HttpSignatureError('SIGNATURE_NOT_FOUND', `no signature${wanted}`);
  throw new HttpSignatureError(
    'SIGNATURE_NOT_FOUND',
    `${matches.length} signatures${wanted} match; select one by label or tag`,
  );
}
