import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Accounts } from '../domain/auth/accounts.js';
import { unauthenticated } from '../domain/auth/tokens.js';
import { HubError } from '../domain/errors.js';

/** Every route under this prefix is an operator's alone (PROTOCOL-MARKET.md, "Operators, readings and settlement"). */
export const OPERATOR_PREFIX = '/api/v1/operator/';

/** A request-time check that the authenticated user is an operator; throws FORBIDDEN otherwise. */
export type OperatorGuard = (req: FastifyRequest) => Promise<void>;

/** requests that passed the check already: a route that names the guard itself is not read twice */
const passed = new WeakSet<FastifyRequest>();

/**
 * The operator check: FORBIDDEN (403, the error envelope) unless `req.userId`, set by the
 * authentication hook (src/http/authenticate.ts), is a user whose email is in OPERATOR_EMAILS now.
 * One read of the user by primary key per request; the role is never taken from the token or stored,
 * so a restart with another OPERATOR_EMAILS takes effect on the next request.
 *
 * Every route under `/api/v1/operator/` gets it as its first route-level `onRequest` hook from
 * `installOperatorGuard` (src/http/app.ts), whatever plugin registers it: authenticated (the
 * app-wide hook), then authorized (this), then the body is read and validated, so a trader's upload
 * is FORBIDDEN before its body is parsed. Naming it again on such a route is harmless (checked once
 * per request). To use it elsewhere, or explicitly, any hook position works:
 *
 *   const guard = operatorOnly(accounts);
 *   app.post('/operator/curtailments', { onRequest: guard, schema }, handler);   // one route
 *   app.get('/operator/settlements', { preHandler: [guard], schema }, handler);  // after validation
 *   app.addHook('onRequest', guard);                                             // a plugin's scope
 */
export function operatorOnly(accounts: Accounts): OperatorGuard {
  return async (req) => {
    if (passed.has(req)) return;
    if (!req.userId) throw unauthenticated('missing');
    const user = await accounts.me(req.userId);
    if (!user.roles.includes('operator')) {
      throw new HubError('FORBIDDEN', 'Only an operator of the market may do this');
    }
    passed.add(req);
  };
}

/**
 * Puts `operatorOnly` first among the route-level `onRequest` hooks of every route under
 * `/api/v1/operator/` registered from now on (in any plugin). Install on the root instance after
 * `installAuthentication` and before any route, as that one is.
 */
export function installOperatorGuard(app: FastifyInstance, accounts: Accounts): void {
  const guard = operatorOnly(accounts);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(OPERATOR_PREFIX)) return;
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [guard, ...own];
  });
}
