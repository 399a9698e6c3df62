import { CertificateError } from './certificate-error';
import { formatXfccElement, parseXfcc, xfccValue } from './xfcc';

/** The examples from Envoy's documentation (configuration/http/http_conn_man/headers, x-forwarded-client-cert). */
const ENVOY_DOCS = {
  oneClient:
    'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
    'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com',
  twoClients:
    'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
    'URI=http://testclient.lyft.com,By=http://backend.lyft.com;' +
    'Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com',
  uriAndDns:
    'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
    'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com;' +
    'DNS=lyft.com;DNS=www.lyft.com',
};

function refused(value: string): void {
  expect(() => parseXfcc(value)).toThrow(CertificateError);
}

describe('parseXfcc', () => {
  it('parses the Envoy documentation examples', () => {
    const [one] = parseXfcc(ENVOY_DOCS.oneClient);
    expect(xfccValue(one, 'By')).toBe('http://frontend.lyft.com');
    expect(xfccValue(one, 'subject')).toBe('/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client');
    expect(xfccValue(one, 'HASH')).toBe('468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688');

    const two = parseXfcc(ENVOY_DOCS.twoClients);
    expect(two).toHaveLength(2);
    expect(xfccValue(two[1], 'by')).toBe('http://backend.lyft.com');
    expect(xfccValue(two[1], 'uri')).toBe('http://frontend.lyft.com');

    const [dns] = parseXfcc(ENVOY_DOCS.uriAndDns);
    expect(dns.pairs.get('dns')).toEqual(['lyft.com', 'www.lyft.com']);
  });

  it('keeps commas, semicolons and equals signs inside quotes, and unescapes \\" and \\\\', () => {
    const [element] = parseXfcc('Subject="CN=a\\, b;O=\\"x\\",C=US";URI=spiffe://x/y?a=b;DNS=');
    expect(xfccValue(element, 'subject')).toBe('CN=a\\, b;O="x",C=US');
    expect(xfccValue(element, 'uri')).toBe('spiffe://x/y?a=b');
    expect(xfccValue(element, 'dns')).toBe('');
    const [backslash] = parseXfcc('Subject="CN=a\\\\"');
    expect(xfccValue(backslash, 'subject')).toBe('CN=a\\');
  });

  it('round-trips formatXfccElement', () => {
    const pairs: [string, string][] = [
      ['By', 'spiffe://proxy'],
      ['Subject', 'CN="q", O=x;y\\z'],
      ['URI', 'spiffe://a'],
    ];
    const [element] = parseXfcc(formatXfccElement(pairs));
    expect(xfccValue(element, 'subject')).toBe('CN="q", O=x;y\\z');
  });

  it('refuses malformed input', () => {
    for (const bad of [
      '',
      ',',
      'By=a,',
      'By=a;',
      ';By=a',
      'By=a,,By=b',
      '=a',
      'By',
      'By a=b',
      'By=a; Hash=b',
      'Subject="unterminated',
      'Subject="a"b',
      'Subject="a\\',
      'URI=a"b',
      'Cert=a;Cert=b',
      'Hash=a;hash=b',
    ]) {
      refused(bad);
    }
  });

  it('bounds the number of elements', () => {
    refused(Array.from({ length: 20 }, () => 'By=a').join(','));
    expect(parseXfcc(Array.from({ length: 16 }, () => 'By=a').join(','))).toHaveLength(16);
  });
});
