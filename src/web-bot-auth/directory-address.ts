import ipaddr from 'ipaddr.js';

/** The verdict on one address a directory host resolved to. */
export interface DirectoryAddressVerdict {
  readonly allowed: boolean;
  /**
   * The ipaddr.js range of the address (after an IPv4-mapped IPv6 address is read as its
   * IPv4 address): 'unicast', 'loopback', 'private', 'linkLocal', 'uniqueLocal',
   * 'carrierGradeNat', '6to4', 'teredo', …; 'invalid' when it is not an IP address;
   * 'nonGlobalIPv6' for an IPv6 address outside 2000::/3 that ipaddr.js calls unicast.
   */
  readonly range: string;
}

// 2000::/3: the only IPv6 block IANA allocates global unicast addresses from. ipaddr.js
// answers 'unicast' for anything it has no name for, including the deprecated
// IPv4-compatible ::a.b.c.d (e.g. ::7f00:1, which some stacks still route to 127.0.0.1).
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Whether a directory fetch may connect to this address (SSRF guard of the Web Bot Auth
 * directory fetch, docs/SECURITY.md G89). Only public unicast addresses are allowed:
 * loopback, private, link-local, unique-local, CGNAT, multicast, reserved and documentation
 * ranges are refused, and so are the IPv6 transition ranges (6to4, Teredo, NAT64/rfc6052,
 * rfc6145) because they embed an IPv4 address this check would not see. An IPv4-mapped IPv6
 * address (::ffff:127.0.0.1) is judged as the IPv4 address it carries. `allowLoopback`
 * (tests only) admits loopback and nothing else: never private addresses.
 */
export function checkDirectoryAddress(address: string, allowLoopback: boolean): DirectoryAddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // Strict forms only: ipaddr.js's parse also accepts legacy IPv4 notations (0x7f.1), which
    // neither DNS results nor WHATWG URL hostnames ever contain.
    if (ipaddr.IPv4.isValidFourPartDecimal(address)) parsed = ipaddr.IPv4.parse(address);
    else if (ipaddr.IPv6.isValid(address) && !address.includes('%')) parsed = ipaddr.IPv6.parse(address);
    else return { allowed: false, range: 'invalid' };
  } catch {
    return { allowed: false, range: 'invalid' };
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  if (range === 'unicast') {
    if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) {
      return { allowed: false, range: 'nonGlobalIPv6' };
    }
    return { allowed: true, range };
  }
  return { allowed: allowLoopback && range === 'loopback', range };
}
