// Zod schemas shared by REST routes; they validate requests and generate /openapi.json.
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../domain/errors.js';

export const errorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error responses a route can give, by status, all with the one envelope. */
export function errors(...statuses: number[]): Record<number, typeof errorEnvelope> {
  return Object.fromEntries(statuses.map((s) => [s, errorEnvelope]));
}

export const userSchema = z
  .object({ id: z.uuid(), email: z.string(), displayName: z.string(), createdAt: z.iso.datetime() })
  .meta({ id: 'User' });

export const sessionSchema = z
  .object({
    user: userSchema,
    accessToken: z.string(),
    refreshToken: z.string(),
    accessExpiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Session' });

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be an email address' }));
export const passwordSchema = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(128, 'must be at most 128 characters');
