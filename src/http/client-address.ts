import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

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
