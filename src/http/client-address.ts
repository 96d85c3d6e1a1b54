import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import ipaddr from 'ipaddr.js';

/**
 * Which peers may name the client in `X-Forwarded-For` (the TRUST_PROXY setting): none (`false`), the
 * `n` nearest hops, or the proxies' addresses and CIDR ranges (`loopback`, `linklocal`, `uniquelocal`
 * name the usual ranges).
 */
export type TrustProxy = false | number | string[];

/** Whether the address `hop` steps from the hub (0: the TCP peer) is a proxy whose forwarding we believe. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * The trust rule of a TRUST_PROXY setting, for Fastify's `trustProxy` and for `clientAddress`. A hop
 * count becomes a function: Fastify itself trusts nobody when given a bare number.
 */
export function trustFunction(trust: TrustProxy): TrustFunction {
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

/**
 * The client's address of an HTTP request or a Socket.IO handshake (`socket.request`): the TCP peer,
 * or, through trusted proxies only, the nearest address in `X-Forwarded-For` that is not one of them.
 * Fastify's `req.ip` follows the same rule, so per-address limits agree across HTTP and sockets.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | TrustFunction): string {
  const rule = typeof trust === 'function' ? trust : trustFunction(trust);
  // a socket already closed has no remote address; all such requests then share one key
  return proxyAddr(req, rule) ?? 'unknown';
}

/**
 * What a per-address limit counts an address as: an IPv4 address as itself (an IPv4-mapped IPv6
 * one as its IPv4), an IPv6 address as its /64. One subscriber's IPv6 network is a /64 at the
 * least, and a client there may take any of its 2^64 addresses: counted one by one, a limit per
 * address would be no limit at all.
 */
export function limitKey(address: string): string {
  // the usual case, every handshake's: a plain dotted IPv4 address is its own key
  if (isIPv4(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(':')}::/64`;
}
