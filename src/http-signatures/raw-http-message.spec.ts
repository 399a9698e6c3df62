import { HttpSignatureError, quoteInput } from './http-signature.error';
import { getFieldLines, getFieldValue, normalizeFieldLine } from './http-message';
import { parseRawHttpMessage } from './raw-http-message';

describe('parseRawHttpMessage', () => {
  it('reads a request with LF or CRLF line ends, keeping header order and duplicates', () => {
    for (const eol of ['\n', '\r\n']) {
      const { view, body } = parseRawHttpMessage(
        ['POST /p?q=1 HTTP/1.1', 'Host: Example.com', 'A: 1', 'a: 2', '', '{"x":1}'].join(eol),
        { scheme: 'https' },
      );
      expect(view).toEqual({
        method: 'POST',
        target: '/p?q=1',
        scheme: 'https',
        authority: 'example.com',
        rawHeaders: ['Host', ' Example.com', 'A', ' 1', 'a', ' 2'],
      });
      expect(body.toString()).toBe('{"x":1}');
      expect(getFieldValue(view, 'a')).toBe('1, 2');
    }
  });

  it('reads a response and an absolute-form request', () => {
    expect(parseRawHttpMessage('HTTP/1.1 503 Service Unavailable\nA: b').view).toEqual({
      status: 503,
      rawHeaders: ['A', ' b'],
    });
    const { view } = parseRawHttpMessage('GET https://www.example.com/path?param=value HTTP/1.1');
    expect(view).toMatchObject({ scheme: 'https', authority: 'www.example.com' });
  });

  it('keeps obs-fold in the raw value; the field value collapses it', () => {
    const { view } = parseRawHttpMessage('GET / HTTP/1.1\nX: Obsolete\n    line folding.\nY:\t a \t');
    expect(getFieldLines(view, 'x')).toEqual([' Obsolete\n    line folding.']);
    expect(getFieldValue(view, 'x')).toBe('Obsolete line folding.');
    expect(getFieldValue(view, 'y')).toBe('a');
  });

  it('refuses what is not an HTTP message', () => {
    expect(() => parseRawHttpMessage('hello')).toThrow(HttpSignatureError);
    expect(() => parseRawHttpMessage('GET / HTTP/1.1\nno colon')).toThrow(HttpSignatureError);
  });
});

describe('field values', () => {
  it.each([
    ['  a  ', 'a'],
    ['a \r\n  b', 'a b'],
    ['a\n\tb\n c', 'a b c'],
    ['a\nb', 'a\nb'],
    ['\u00a0a\u00a0', '\u00a0a\u00a0'],
    [`${' '.repeat(5000)}\n`, '\n'],
  ])('normalizes %j', (line, expected) => {
    expect(normalizeFieldLine(line)).toBe(expected);
  });

  it('skips names that are not tokens, such as HTTP/2 pseudo-headers', () => {
    const view = { rawHeaders: [':authority', 'x', 'K\u212aey', 'y', 'key', 'z'] };
    expect(getFieldValue(view, ':authority')).toBeUndefined();
    expect(getFieldValue(view, 'kkey')).toBeUndefined();
    expect(getFieldValue(view, 'key')).toBe('z');
  });
});

describe('quoteInput', () => {
  it('truncates, quotes and escapes', () => {
    expect(quoteInput('abc')).toBe('"abc"');
    expect(quoteInput('a"\n\u2028\u00e9')).toBe('"a\\"\\n\\u2028\\u00e9"');
    expect(quoteInput('x'.repeat(100))).toBe(`"${'x'.repeat(48)}..."`);
  });
});
