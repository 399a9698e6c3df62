import { HttpSignatureError, quoteInput } from '../http-signature.error';
import { isSfKey, isSfStringSafe, serializeSfString } from '../structured-field';
import type { ComponentIdentifier, ComponentParameters, CoveredComponent } from './rfc9421.types';

export const DERIVED_COMPONENTS = [
  '@method',
  '@target-uri',
  '@authority',
  '@scheme',
  '@request-target',
  '@path',
  '@query',
  '@query-param',
  '@status',
] as const;

export type DerivedComponentName = (typeof DERIVED_COMPONENTS)[number];

const DERIVED = new Set<string>(DERIVED_COMPONENTS);

const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

const BOOLEAN_PARAMS = new Set(['sf', 'bs', 'req']);

/** The params of every component without parameters (frozen, shared). */
const NO_PARAMS: ComponentParameters = Object.freeze({});

/**
 * Components without parameters, by name, as checkComponent returns them (frozen):
 * every signed request names the same few, and checking and quoting them again
 * on each request is needless work. Bounded: past the limit they are built anew.
 */
const PLAIN = new Map<string, CoveredComponent>();
const MAX_PLAIN = 256;

/**
 * How coverage rules name a component: its name alone ("content-digest") when it
 * has no parameters, else its serialized identifier ("content-digest";req).
 */
export function coverageName(component: CoveredComponent): string {
  return component.params === NO_PARAMS ? component.name : component.identifier;
}

/** A parameter as read from the wire: strings, booleans, or anything else structured-headers produced. */
export type RawParameterValue = string | boolean | number | object;

/**
 * Validates one component identifier and returns it with its serialized form.
 * Used for parsed Signature-Input items and for what a signer asks to cover, so
 * both sides refuse the same things.
 */
export function checkComponent(
  name: string,
  params: Iterable<readonly [string, RawParameterValue]>,
): CoveredComponent {
  if (params instanceof Map && params.size === 0) {
    const plain = PLAIN.get(name);
    if (plain !== undefined) return plain;
  }
  if (name === '@signature-params') {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', '"@signature-params" cannot be a covered component');
  }
  const derived = name.startsWith('@');
  if (derived && !DERIVED.has(name)) {
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_UNSUPPORTED',
      `unsupported derived component ${quoteInput(name)}`,
    );
  }
  if (!derived && !FIELD_NAME.test(name)) {
    throw new HttpSignatureError(
      'MALFORMED_SIGNATURE',
      `component name ${quoteInput(name)} is not a lowercase field name`,
    );
  }
  const out: { -readonly [K in keyof ComponentParameters]: ComponentParameters[K] } = {};
  let identifier = serializeSfString(name);
  for (const [key, value] of params) {
    if (key === 'tr') {
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_UNSUPPORTED',
        `trailer fields (";tr" on ${quoteInput(name)}) are not supported`,
      );
    }
    if (BOOLEAN_PARAMS.has(key)) {
      if (value !== true) {
        throw new HttpSignatureError(
          'MALFORMED_SIGNATURE',
          `parameter ";${key}" must be a bare boolean true`,
        );
      }
      if (key !== 'req' && derived) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_UNSUPPORTED',
          `parameter ";${key}" applies to fields, not to ${quoteInput(name)}`,
        );
      }
      out[key as 'sf' | 'bs' | 'req'] = true;
      identifier += `;${key}`;
    } else if (key === 'key' || key === 'name') {
      if (typeof value !== 'string' || !isSfStringSafe(value)) {
        throw new HttpSignatureError('MALFORMED_SIGNATURE', `parameter ";${key}" must be a string`);
      }
      if (key === 'key' ? derived : name !== '@query-param') {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_UNSUPPORTED',
          `parameter ";${key}" does not apply to ${quoteInput(name)}`,
        );
      }
      out[key] = value;
      identifier += `;${key}=${serializeSfString(value)}`;
    } else {
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_UNSUPPORTED',
        `unknown component parameter ${quoteInput(key)} on ${quoteInput(name)}`,
      );
    }
  }
  if (out.bs === true && (out.sf === true || out.key !== undefined)) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', '";bs" cannot be combined with ";sf" or ";key"');
  }
  if (name === '@query-param' && out.name === undefined) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', '"@query-param" needs a ";name" parameter');
  }
  if (Object.keys(out).length > 0) return { name, params: out, identifier };
  const plain: CoveredComponent = Object.freeze({ name, params: NO_PARAMS, identifier });
  if (PLAIN.size < MAX_PLAIN) PLAIN.set(name, plain);
  return plain;
}

/** Validates a signer's component and computes its identifier. */
export function toCoveredComponent(component: ComponentIdentifier): CoveredComponent {
  if (component === null || typeof component !== 'object' || typeof component.name !== 'string') {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', 'a component needs a string name');
  }
  const entries: [string, RawParameterValue][] = [];
  const params = component.params ?? {};
  for (const key of Object.keys(params)) {
    const value = (params as Record<string, unknown>)[key];
    if (value === undefined || value === false) continue;
    if (!isSfKey(key)) {
      throw new HttpSignatureError(
        'MALFORMED_SIGNATURE',
        `invalid component parameter name ${quoteInput(key)}`,
      );
    }
    entries.push([key, value as RawParameterValue]);
  }
  return checkComponent(component.name, entries);
}

/**
 * True when two identifiers name the same component, whatever the order of their
 * parameters: `"a";req;sf` and `"a";sf;req` are one component.
 */
export function sameComponent(a: CoveredComponent, b: CoveredComponent): boolean {
  if (a.name !== b.name) return false;
  if (a.identifier === b.identifier) return true;
  const p = a.params;
  const q = b.params;
  return p.name === q.name && p.key === q.key && p.sf === q.sf && p.bs === q.bs && p.req === q.req;
}
