import type { FastifyRequest } from 'fastify';
import type { Accounts } from '../domain/auth/accounts.js';
import { unauthenticated } from '../domain/auth/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated user, set by `requireUser` */
    userId: string;
  }
}

/** A preHandler that admits only `Authorization: Bearer <access token>` of a live login. */
export function requireUser(accounts: Accounts) {
  return async (req: FastifyRequest) => {
    const header = req.headers.authorization;
    if (header === undefined) throw unauthenticated('missing');
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!m) throw unauthenticated('invalid', 'The Authorization header must be "Bearer <access token>"');
    const claims = await accounts.authenticate(m[1]);
    req.userId = claims.userId;
  };
}
