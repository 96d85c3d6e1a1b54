import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Accounts } from '../domain/auth/accounts.js';
import type { AuthLimits } from './auth-limits.js';
import { limitKey } from './client-address.js';
import {
  displayNameSchema,
  emailSchema,
  errors,
  passwordSchema,
  sessionSchema,
  userSchema,
} from './schemas.js';

export interface AuthRouteDeps {
  accounts: Accounts;
  limits: AuthLimits;
}

const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) });

/** /api/v1/auth/* and /api/v1/me. */
export const authRoutes: FastifyPluginAsyncZod<AuthRouteDeps> = async (app, { accounts, limits }) => {
  // Every answer here may carry tokens or a user: no cache (browser, proxy) may keep one.
  // Scoped to this plugin, errors included.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account and log in',
        body: z.strictObject({
          email: emailSchema,
          password: passwordSchema,
          displayName: displayNameSchema,
        }),
        response: { 201: sessionSchema, ...errors(400, 409, 429, 503) },
      },
    },
    async (req, reply) => {
      await limits.attempt(limitKey(req.ip));
      // registrations per address and per email have budgets of their own, apart from logins
      await limits.registration(limitKey(req.ip), req.body.email);
      const session = await accounts.register(req.body);
      return reply.status(201).send(session);
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password',
        body: z.strictObject({ email: emailSchema, password: z.string().min(1).max(128) }),
        response: { 200: sessionSchema, ...errors(400, 401, 429, 503) },
      },
    },
    async (req) => {
      await limits.attempt(limitKey(req.ip));
      // the email's attempt is reserved before the password is checked, released on success
      return limits.login(req.body.email, () => accounts.login(req.body));
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair; the old one is spent',
        description:
          'Presenting a spent refresh token again within REFRESH_REUSE_SECONDS of its rotation (and before its ' +
          'successor was used) returns the same refresh token again with a fresh access token, so a retried ' +
          'request is safe; later it revokes every token of that login. No login is refreshed past ' +
          'SESSION_MAX_SECONDS from its start.',
        body: refreshBody,
        response: { 200: sessionSchema, ...errors(400, 401, 503) },
      },
    },
    async (req) => accounts.refresh(req.body.refreshToken),
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: "Revoke this login's refresh tokens",
        description:
          'A refresh token of another user (or an unknown one) changes nothing and gets the same 204: the caller learns nothing about it.',
        security: [{ bearer: [] }],
        body: refreshBody,
        response: { 204: z.null().describe('logged out'), ...errors(400, 401, 503) },
      },
    },
    async (req, reply) => {
      await accounts.logout(req.body.refreshToken, req.userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The authenticated user',
        security: [{ bearer: [] }],
        response: { 200: userSchema, ...errors(401, 503) },
      },
    },
    async (req) => accounts.me(req.userId),
  );
};
