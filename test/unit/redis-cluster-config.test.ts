// REDIS_CLUSTER_NODES: the seed nodes of a Redis Cluster, as host:port or redis:// URLs.
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const nodes = (value: string) => loadConfig({ REDIS_CLUSTER_NODES: value }).REDIS_CLUSTER_NODES;

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('REDIS_CLUSTER_NODES', () => {
  test('unset: one Redis (REDIS_URL) or none', () => {
    expect(loadConfig({}).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).REDIS_CLUSTER_NODES).toBeUndefined();
  });

  test('a comma-separated list of host:port, spaces and repeats ignored, IPv6 in brackets', () => {
    expect(nodes('10.0.0.1:7000, redis-b.internal:7001,,[::1]:7002,10.0.0.1:7000')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
  });

  test('redis:// and rediss:// URLs carry the login and TLS for every node', () => {
    expect(nodes('rediss://hub:p%40ss@a:7000,b:7001')).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      username: 'hub',
      password: 'p@ss',
      tls: true,
    });
    expect(nodes('redis://a')).toEqual({ nodes: [{ host: 'a', port: 6379 }], tls: false });
  });

  test.each([
    ['a', /must be a comma-separated list of host:port/],
    ['a:0', /has a port outside 1 to 65535/],
    ['a:70000', /has a port outside 1 to 65535/],
    [' , ', /must name at least one node/],
    ['http://a:1', /URLs must start with redis:\/\/ or rediss:\/\//],
    ['redis://a:1/2', /only database 0/],
    ['redis://u:x@a:1,rediss://u:x@b:1', /same scheme, user and password/],
  ])('%s is refused with one line', (value, line) => {
    const message = refusal({ REDIS_CLUSTER_NODES: value });
    expect(message).toMatch(/^config: REDIS_CLUSTER_NODES /);
    expect(message).toMatch(line);
    expect(message).not.toContain('\n');
  });

  test('a password in a refused value is not shown', () => {
    expect(refusal({ REDIS_CLUSTER_NODES: 'redis://hub:s3cret@a:1/5' })).toBe(
      'config: REDIS_CLUSTER_NODES a Redis Cluster has only database 0 (got "redis://<hidden>@a:1/5")',
    );
  });

  test('with REDIS_URL too, the hub refuses to start: nodes on different Redis would not hear each other', () => {
    expect(refusal({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000' })).toBe(
      'config: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (Redis Cluster), not both',
    );
  });
});
