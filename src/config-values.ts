// The kinds of value a setting of the hub takes (src/config.ts): how each environment variable's
// text is read and checked, with the message a bad value gets.
import { z } from 'zod';

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

export const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(url(['http:', 'https:'])));

/** Where the nodes of a Redis Cluster are, and how to log in to them (REDIS_CLUSTER_NODES). */
export interface RedisClusterSettings {
  /** the seed nodes; the client learns the others from them */
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  /** `rediss://` entries: TLS to every node */
  tls: boolean;
}

export const clusterNodes = z.string().transform((v, ctx): RedisClusterSettings => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const nodes: RedisClusterSettings['nodes'] = [];
  const logins = new Set<string>();
  let login: Omit<RedisClusterSettings, 'nodes'> = { tls: false };
  for (const entry of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let host: string;
    let port: number;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
      let u: URL;
      try {
        u = new URL(entry);
      } catch {
        return fail('has an entry that is not a URL');
      }
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
        return fail('URLs must start with redis:// or rediss://');
      if (u.pathname !== '' && u.pathname !== '/' && u.pathname !== '/0')
        return fail('a Redis Cluster has only database 0');
      login = {
        tls: u.protocol === 'rediss:',
        username: u.username ? decodeURIComponent(u.username) : undefined,
        password: u.password ? decodeURIComponent(u.password) : undefined,
      };
      logins.add(JSON.stringify(login));
      host = u.hostname.replace(/^\[(.*)\]$/, '$1');
      port = u.port ? Number(u.port) : 6379;
    } else {
      const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/@]+)):(\d{1,5})$/.exec(entry);
      if (!m) return fail('must be a comma-separated list of host:port (or redis:// URLs)');
      host = m[1] ?? m[2]!;
      port = Number(m[3]);
    }
    if (port < 1 || port > 65535) return fail('has a port outside 1 to 65535');
    if (!nodes.some((n) => n.host === host && n.port === port)) nodes.push({ host, port });
  }
  if (nodes.length === 0) return fail('must name at least one node as host:port');
  if (logins.size > 1) return fail('URLs must all have the same scheme, user and password');
  return { nodes, ...login };
});

export const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  message: 'must be http/protobuf or http/json (gRPC is not built in)',
});
