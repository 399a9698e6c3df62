import { checkDirectoryAddress } from './directory-address';
import { directoryLifetimeSeconds } from './directory-cache';
import { DIRECTORY_DEFAULTS } from './web-bot-auth-options';

describe('checkDirectoryAddress (G89)', () => {
  it.each([
    ['8.8.8.8', 'unicast'],
    ['1.1.1.1', 'unicast'],
    ['2606:4700:4700::1111', 'unicast'],
    ['::ffff:8.8.8.8', 'unicast'],
  ])('allows the public unicast address %s', (address, range) => {
    expect(checkDirectoryAddress(address, false)).toEqual({ allowed: true, range });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['::ffff:192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2002:7f00:1::', '6to4'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['::7f00:1', 'nonGlobalIPv6'],
    ['0x7f.1', 'invalid'],
    ['2130706433', 'invalid'],
    ['fe80::1%eth0', 'invalid'],
    ['localhost', 'invalid'],
  ])('refuses %s (%s)', (address, range) => {
    expect(checkDirectoryAddress(address, false)).toEqual({ allowed: false, range });
  });

  it('allowLoopback admits loopback and nothing else', () => {
    expect(checkDirectoryAddress('127.0.0.1', true).allowed).toBe(true);
    expect(checkDirectoryAddress('::1', true).allowed).toBe(true);
    expect(checkDirectoryAddress('::ffff:127.0.0.1', true).allowed).toBe(true);
    for (const address of [
      '10.0.0.1',
      '192.168.1.1',
      '169.254.169.254',
      'fd00::1',
      '100.64.0.1',
      '0.0.0.0',
    ]) {
      expect(checkDirectoryAddress(address, true).allowed).toBe(false);
    }
  });
});

describe('directoryLifetimeSeconds (G92)', () => {
  const bounds = {
    ...DIRECTORY_DEFAULTS,
    minCacheSeconds: 60,
    maxCacheSeconds: 86_400,
    defaultCacheSeconds: 300,
  };
  it.each([
    [undefined, 300],
    ['public', 300],
    ['max-age=600', 600],
    ['Max-Age="600", public', 600],
    ['max-age=5', 60],
    ['max-age=99999999', 86_400],
    ['no-store', 60],
    ['max-age=600, no-cache', 60],
    ['max-age=600, max-age=120', 120],
    ['max-age=abc', 60],
  ])('%s → %i s', (header, seconds) => {
    expect(directoryLifetimeSeconds(header, bounds)).toBe(seconds);
  });
});
