import type { z } from 'zod';
import { HubError } from './errors.js';

/** One problem with an input, as PROTOCOL.md lists them in `details.issues`. */
export interface Issue {
  path: string;
  message: string;
}

/** `["filter", "zones", 0]` -> `"filter.zones.0"`; the root is `""`. */
export const joinPath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

export function validationFailed(issues: Issue[], message = 'The input is not valid'): HubError {
  return new HubError('VALIDATION_FAILED', message, { issues });
}

export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: joinPath(i.path), message: i.message }));
}

/** Parses input at an edge; a failure becomes VALIDATION_FAILED listing every issue. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationFailed(zodIssues(result.error));
  return result.data;
}
