import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['a ?access_token= parameter', 'http://h/x?a=1&access_token=SECRET'],
    ['RED CASE (red-team 4 F3): a token in the fragment', 'http://127.0.0.1:1/cb#access_token=SECRET'],
    ['RED CASE (red-team 4 F3): a ;-separated parameter', 'http://h/x?a=1;token=SECRET'],
    ['RED CASE (red-team 4 F3): code[]', 'http://h/x?code[]=SECRET'],
    ['RED CASE (red-team 4 F3): code with a trailing space', 'http://h/x?code%20=SECRET'],
    ['a password in the user part', 'http://bob:SECRET@h/x'],
  ])('hides %s', (_name, url) => {
    const shown = redactUrl(url);
    expect(shown).not.toContain('SECRET');
    expect(shown).toContain('***');
  });

  it('shows a URL with nothing secret exactly as written', () => {
    expect(redactUrl('http://h/x?page=2&sort=name')).toBe('http://h/x?page=2&sort=name');
  });
});
