import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Accounts } from '../domain/auth/accounts.js';
import type { AuthLimits } from './auth-limits.js';
import { requireUser } from './authenticate.js';
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
      await limits.attempt(req.ip);
      // registrations per email have a budget of their own, apart from failed logins
      const key = `register:${req.body.email}`;
      await limits.checkEmail(key);
      await limits.failed(key);
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
      await limits.attempt(req.ip);
      await limits.checkEmail(req.body.email);
      try {
        const session = await accounts.login(req.body);
        await limits.succeeded(req.body.email);
        return session;
      } catch (err) {
        await limits.failed(req.body.email);
        throw err;
      }
    },
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair; the old one is spent',
        description: 'Presenting a spent refresh token revokes every token of that login.',
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
        security: [{ bearer: [] }],
        body: refreshBody,
        response: { 204: z.null().describe('logged out'), ...errors(400, 401, 503) },
      },
      preHandler: requireUser(accounts),
    },
    async (req, reply) => {
      await accounts.logout(req.body.refreshToken);
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
      preHandler: requireUser(accounts),
    },
    async (req) => accounts.me(req.userId),
  );
};
