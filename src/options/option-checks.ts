import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { optionFieldNames } from './option-field-names';

/** Refuses a field nothing reads (a typo would otherwise be ignored without a word). */
export function checkKeys(where: string, value: object, known: readonly string[]): void {
  for (const key of optionFieldNames(value)) {
    if (!known.includes(key)) {
      throw ConfigError.create(`unknown option ${where}${key}.`, `Known options: ${known.join(', ')}.`);
    }
  }
}

/** A finite number within [min, max], or the fallback when absent. */
export function number(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  unit = '',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw ConfigError.create(
      `${name} must be a number from ${min} to ${max}${unit ? ` ${unit}` : ''} (got ${JSON.stringify(value)}).`,
      `Set it within that range, or leave it out for the default of ${fallback}.`,
    );
  }
  return value;
}

/** A boolean, or the fallback when absent. */
export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw ConfigError.create(
      `${name} must be true or false (got ${JSON.stringify(value)}).`,
      'Pass a boolean.',
    );
  }
  return value;
}
