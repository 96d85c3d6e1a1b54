// The address rules of the hub's outbound requests (src/notify/outbound-http.ts): which addresses
// a webhook or push request may reach (public unicast only), and how a refusal is worded.
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** Human names for ipaddr.js range labels, used in refusal messages. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified address',
  broadcast: 'broadcast address',
  multicast: 'multicast address',
  linkLocal: 'link-local address',
  loopback: 'loopback address',
  carrierGradeNat: 'carrier-grade NAT address',
  private: 'private address',
  uniqueLocal: 'private (unique local) address',
  reserved: 'reserved address',
  benchmarking: 'benchmarking address',
  rfc6145: 'IPv4-translated address',
  deprecatedSiteLocal: 'site-local address',
  discard: 'discard-only address',
};

// 2000::/3 is the only IPv6 block IANA allocates for global unicast; ipaddr.js calls anything
// outside its special list "unicast", including unassigned space and IPv4-compatible ::a.b.c.d,
// so IPv6 is allowed by this positive rule rather than by the absence of a label.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
// The well-known NAT64 prefix (RFC 6052) carries the IPv4 in its last 32 bits; the local-use
// prefix 64:ff9b:1::/48 (RFC 8215) leads into the operator's own network and is refused.
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * Why an address (v4 or v6 text) may not be connected to, or `undefined` when it is public
 * unicast. Text that is not a plain IP address is refused (fail closed).
 */
export function forbiddenReason(address: string): string | undefined {
  if (net.isIP(address) === 0) return 'unparseable address';
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv4' ? ipv4Reason(parsed as ipaddr.IPv4) : ipv6Reason(parsed as ipaddr.IPv6);
}

function ipv4Reason(address: ipaddr.IPv4): string | undefined {
  const range = address.range();
  if (range === 'unicast') return undefined;
  if (address.toString() === '169.254.169.254') return 'link-local (cloud metadata) address';
  // as112 and amt are anycast services, not receivers a trader runs: refused like the rest
  return RANGE_NAMES[range] ?? `special-purpose (${range}) address`;
}

function ipv6Reason(address: ipaddr.IPv6): string | undefined {
  const range = address.range();
  const p = address.parts;
  switch (range) {
    case 'ipv4Mapped':
      return embedded('IPv4-mapped', address.toIPv4Address());
    case '6to4':
      // 2002:AABB:CCDD::/48 routes to the 6to4 relay at AA.BB.CC.DD
      return embedded('6to4', v4FromWords(p[1], p[2]));
    case 'teredo': {
      // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC, server IPv4 in clear, client IPv4 inverted
      const server = embedded('Teredo', v4FromWords(p[2], p[3]));
      return server ?? embedded('Teredo', v4FromWords(~(p[6] ?? 0), ~(p[7] ?? 0)));
    }
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN)
        ? embedded('NAT64', v4FromWords(p[6], p[7]))
        : 'local-use NAT64 address';
    case 'unicast':
      return address.match(GLOBAL_UNICAST_V6) ? undefined : 'reserved address';
    default:
      return RANGE_NAMES[range] ?? `special-purpose (${range}) address`;
  }
}

function v4FromWords(high = 0, low = 0): ipaddr.IPv4 {
  return new ipaddr.IPv4([(high >> 8) & 0xff, high & 0xff, (low >> 8) & 0xff, low & 0xff]);
}

function embedded(form: string, v4: ipaddr.IPv4): string | undefined {
  const inner = ipv4Reason(v4);
  return inner === undefined ? undefined : `${form} address embedding ${article(inner)} ${inner}`;
}

function article(phrase: string): string {
  return /^[aeiouAEIOU]/.test(phrase) ? 'an' : 'a';
}

export function refusal(address: string, reason: string): string {
  return `resolves to ${article(reason)} ${reason} (${address})`;
}

/** Whether an address (v4 or v6 text) is forbidden: anything but public unicast. */
export function isForbiddenAddress(address: string): boolean {
  return forbiddenReason(address) !== undefined;
}

/** The URL's host as an IP address when it is a literal ("[::1]" unbracketed), else undefined. */
export function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return net.isIP(host) === 0 ? undefined : host;
}
