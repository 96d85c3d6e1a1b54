import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Accounts } from '../domain/auth/accounts.js';
import { unauthenticated } from '../domain/auth/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user, set by the hook of `installAuthentication` on every protected route */
    userId: string;
    /** the authenticated user's display name (from the access token) */
    displayName: string;
  }
}

/** The routes under /api/v1 open without a token (PROTOCOL.md); every other one needs a bearer token. */
export const PUBLIC_API_ROUTES: ReadonlySet<string> = new Set([
  '/api/v1/auth/register',
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
]);

/** Whether a route (its URL pattern) admits only a logged-in user: protected unless listed as public. */
export function needsUser(routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return false; // no route matched: a 404
  return routeUrl.startsWith('/api/v1/') && !PUBLIC_API_ROUTES.has(routeUrl);
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * Authentication of the whole REST API, in one place: every /api/v1 route but the public ones admits
 * only `Authorization: Bearer <access token>` of a live login. It runs onRequest, before the body is
 * read and the input validated, so a request without a valid token is 401 whatever it carries
 * (PROTOCOL.md: authenticated, then authorized, then validated), and an anonymous body is never parsed.
 * A route added later is protected unless it is listed in PUBLIC_API_ROUTES; its OpenAPI entry is
 * given the bearer requirement here, so the document cannot say otherwise. Install before any route.
 */
export function installAuthentication(app: FastifyInstance, accounts: Accounts): void {
  app.addHook('onRoute', (route) => {
    if (needsUser(route.url) && !route.schema?.security) {
      route.schema = { ...route.schema, security: [{ bearer: [] }] };
    }
  });
  app.addHook('onRequest', async (req) => {
    if (!needsUser(req.routeOptions.url)) return;
    const header = req.headers.authorization;
    if (header === undefined) throw unauthenticated('missing');
    const m = BEARER.exec(header);
    if (!m) throw unauthenticated('invalid', 'The Authorization header must be "Bearer <access token>"');
    const claims = await accounts.authenticate(m[1]);
    req.userId = claims.userId;
    req.displayName = claims.displayName ?? '';
  });
}

/**
 * @deprecated Authentication now runs once, before validation, for every protected route
 * (`installAuthentication`); this preHandler only asserts that it did. Drop it from route options.
 */
export function requireUser(_accounts?: Accounts) {
  return async (req: FastifyRequest) => {
    if (!req.userId) throw unauthenticated('missing');
  };
}
