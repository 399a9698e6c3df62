/**
 * Every field name an options object can be read by: its own names, enumerable or not, and
 * those it inherits from a class or prototype (getters included), up to Object.prototype.
 * `Object.keys` sees only own enumerable fields, so a misspelled getter on a config class
 * (`get role()`) would otherwise be ignored without a word.
 */
export function optionFieldNames(value: object): string[] {
  const names = new Set<string>();
  for (
    let o: object | null = value;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor') names.add(name);
  }
  return [...names];
}

/** Whether `value` is a plain object (`{ … }` or `Object.create(null)`), not a Map, array or class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
