import fc from 'fast-check';
import {
  DisplayString,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  Token,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
} from 'structured-headers';
import { countInnerListParameters, scanDictionary } from './structured-field';

const RUNS = (() => {
  const runs = Number(process.env.FUZZ_RUNS ?? 2000);
  return Number.isInteger(runs) && runs > 0 ? runs : 2000;
})();

const key = fc.stringMatching(/^[a-z*][a-z0-9_\-.*]{0,6}$/);
const bareItem: fc.Arbitrary<BareItem> = fc.oneof(
  fc.integer({ min: -999, max: 999 }),
  fc.boolean(),
  fc.stringMatching(/^[\x20-\x7e]{0,8}$/),
  // Tokens may hold ":" "/" "%", which look like the start of other values.
  fc.stringMatching(/^[A-Za-z*][:/%!#$&'*+\-.^_`|~0-9A-Za-z]{0,8}$/).map((t) => new Token(t)),
  fc.uint8Array({ maxLength: 8 }).map((b) => b.buffer as ArrayBuffer),
  fc.stringMatching(/^[\x20-\x7e]{0,6}$/).map((t) => new DisplayString(t)),
);
const params = fc
  .uniqueArray(fc.tuple(key, bareItem), { maxLength: 3, selector: ([k]) => k })
  .map((entries) => new Map(entries));
const item: fc.Arbitrary<Item> = fc.tuple(bareItem, params);
const innerList: fc.Arbitrary<InnerList> = fc.tuple(fc.array(item, { maxLength: 3 }), params);
const dictionary = fc
  .uniqueArray(fc.tuple(key, fc.oneof(item, innerList)), { minLength: 1, maxLength: 5, selector: ([k]) => k })
  .map((entries): Dictionary => new Map(entries));

function isInner(value: Item | InnerList): value is InnerList {
  return Array.isArray(value[0]);
}

describe('scanDictionary', () => {
  it('finds every member and its exact text in serialized dictionaries', () => {
    fc.assert(
      fc.property(dictionary, (dict) => {
        const text = serializeDictionary(dict);
        const scanned = scanDictionary(text);
        expect(scanned?.members.map((m) => m.key)).toEqual([...dict.keys()]);
        scanned?.members.forEach(({ key: k, raw }) => {
          const value = dict.get(k) as Item | InnerList;
          if (isInner(value)) {
            expect(raw).toBe(serializeInnerList(value));
            const counted = countInnerListParameters(raw);
            expect(counted.list).toBe(value[1].size);
            expect(counted.items).toBe(value[0].reduce((n, [, p]) => n + p.size, 0));
          } else if (value[0] !== true) {
            expect(raw).toBe(serializeItem(value));
          }
        });
        // A repeated key is visible in the members although the parsed Map holds it once.
        const doubled = scanDictionary(`${text}, ${text}`);
        expect(doubled?.members.length).toBe(2 * dict.size);
        expect(doubled?.parsed.size).toBe(dict.size);
      }),
      { numRuns: RUNS },
    );
  });

  it('returns undefined for what is not a dictionary', () => {
    expect(scanDictionary('a=(')).toBeUndefined();
    expect(scanDictionary('A=1')).toBeUndefined();
  });
});
