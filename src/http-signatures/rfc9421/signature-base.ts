import { HttpSignatureError, isHttpSignatureError, quoteInput } from '../http-signature.error';
import { isResponse, type HttpMessageView } from '../http-message';
import type { DerivedComponentName } from './component-identifier';
import { derivedComponentValue } from './derived-components';
import { fieldComponentValue } from './field-components';
import type { CoveredComponent, Rfc9421Signature } from './rfc9421.types';

/** What a base is built from: the covered components and the received @signature-params value. */
export type SignatureBaseInput = Pick<Rfc9421Signature, 'components' | 'signatureParamsValue'>;

// A value must not contain a line break or any other control character: it would let one
// component's value impersonate further lines. Non-ASCII has no agreed byte form; ;bs exists for it.
const UNSAFE_VALUE = /[^\t\x20-\x7e]/;
const UNSAFE_BASE = /[^\t\n\x20-\x7e]/;

function unsafe(entry: SignatureBaseInput, values: readonly string[]): HttpSignatureError {
  const index = values.findIndex((v) => UNSAFE_VALUE.test(v));
  if (index === -1) {
    return new HttpSignatureError('MALFORMED_SIGNATURE', '@signature-params has a control character');
  }
  return new HttpSignatureError(
    'SIGNATURE_COMPONENT_INVALID',
    `${quoteInput(entry.components[index].identifier)} has a control or non-ASCII character; sign such a field with ;bs`,
  );
}

function componentValue(
  view: HttpMessageView,
  component: CoveredComponent,
  related: HttpMessageView | undefined,
): string {
  let source = view;
  if (component.params.req === true) {
    if (!isResponse(view)) {
      throw new HttpSignatureError('SIGNATURE_COMPONENT_UNSUPPORTED', '";req" is only allowed in a response');
    }
    if (related === undefined) {
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_MISSING',
        `${quoteInput(component.identifier)} needs the related request, which was not given`,
      );
    }
    source = related;
  }
  return component.name.charCodeAt(0) === 0x40 /* @ */
    ? derivedComponentValue(source, component.name as DerivedComponentName, component.params.name)
    : fieldComponentValue(source, component.name, component.params);
}

/**
 * The signature base of RFC 9421 §2.5 as a string (ASCII only): one line per
 * covered component, then the "@signature-params" line, LF-separated, no final LF.
 * `related` is the request a response answers, for components with ;req.
 */
export function buildSignatureBaseString(
  view: HttpMessageView,
  entry: SignatureBaseInput,
  related?: HttpMessageView,
): string {
  try {
    let base = '';
    const values: string[] = [];
    for (const component of entry.components) {
      const value = componentValue(view, component, related);
      if (value.indexOf('\n') !== -1) throw unsafe(entry, [...values, value]);
      values.push(value);
      base += `${component.identifier}: ${value}\n`;
    }
    base += `"@signature-params": ${entry.signatureParamsValue}`;
    // Line breaks were checked per value; the other characters in one pass over the whole base.
    if (UNSAFE_BASE.test(base) || entry.signatureParamsValue.indexOf('\n') !== -1) {
      throw unsafe(entry, values);
    }
    return base;
  } catch (error) {
    if (isHttpSignatureError(error)) throw error;
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_INVALID',
      `the signature base could not be built (${quoteInput(String(error))})`,
    );
  }
}

/** The signature base as the bytes to sign or verify. */
export function buildSignatureBase(
  view: HttpMessageView,
  entry: SignatureBaseInput,
  related?: HttpMessageView,
): Buffer {
  return Buffer.from(buildSignatureBaseString(view, entry, related), 'latin1');
}
