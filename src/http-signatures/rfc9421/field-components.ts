import {
  isInnerList,
  parseDictionary,
  parseList,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
  type Dictionary,
} from 'structured-headers';
import { HttpSignatureError, quoteInput } from '../http-signature.error';
import { getFieldLines, getFieldValue, trimOws, type HttpMessageView } from '../http-message';
import type { ComponentParameters } from './rfc9421.types';

function absent(name: string): HttpSignatureError {
  return new HttpSignatureError('SIGNATURE_COMPONENT_MISSING', `covered field ${quoteInput(name)} is absent`);
}

function notStructured(name: string, what: string): HttpSignatureError {
  return new HttpSignatureError(
    'SIGNATURE_COMPONENT_INVALID',
    `covered field ${quoteInput(name)} is not a valid structured ${what}`,
  );
}

/*
 * ;sf needs the field's structured type, which only a registry of every field
 * would know. Parsing as a dictionary and then as a list is unambiguous: a value
 * that is both must be members of the form `key;params`, which serialize to the
 * same text either way (and a single item serializes like a one-member list).
 */
function serializeStructured(name: string, value: string): string {
  try {
    return serializeDictionary(parseDictionary(value));
  } catch {
    // not a dictionary
  }
  try {
    return serializeList(parseList(value));
  } catch {
    throw notStructured(name, 'field');
  }
}

function dictionaryMember(name: string, value: string, key: string): string {
  let dictionary: Dictionary;
  try {
    dictionary = parseDictionary(value);
  } catch {
    throw notStructured(name, 'dictionary');
  }
  const member = dictionary.get(key);
  if (member === undefined) {
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_MISSING',
      `dictionary field ${quoteInput(name)} has no member ${quoteInput(key)}`,
    );
  }
  try {
    return isInnerList(member) ? serializeInnerList(member) : serializeItem(member);
  } catch {
    throw notStructured(name, 'dictionary');
  }
}

/** RFC 9421 §2.1.3: each line trimmed and wrapped as a byte sequence (latin1 = the bytes Node read). */
function byteSequences(name: string, lines: readonly string[]): string {
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = trimOws(lines[i]);
    if (/[\u0100-\uffff]/.test(line)) {
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_INVALID',
        `covered field ${quoteInput(name)} has characters that are not bytes`,
      );
    }
    out += `${i === 0 ? '' : ', '}:${Buffer.from(line, 'latin1').toString('base64')}:`;
  }
  return out;
}

/** The component value of an HTTP field (RFC 9421 §2.1) with its ;sf, ;key or ;bs parameter. */
export function fieldComponentValue(
  view: HttpMessageView,
  name: string,
  params: ComponentParameters,
): string {
  if (params.bs === true) {
    const lines = getFieldLines(view, name);
    if (lines === undefined) throw absent(name);
    return byteSequences(name, lines);
  }
  const value = getFieldValue(view, name);
  if (value === undefined) throw absent(name);
  if (params.key !== undefined) return dictionaryMember(name, value, params.key);
  if (params.sf === true) return serializeStructured(name, value);
  return value;
}
