// auth: argon2id hash time at the configured cost, and logins per second with 20 concurrent clients.
import argon2 from 'argon2';
import { histogram, machine, printTable, saveResult, startHubProcess, summary } from '../lib.js';

const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }; // the hub's defaults
const CLIENTS = 20;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

export async function run(): Promise<void> {
  // baseline: raw argon2id, sequential (latency) and with 2 in flight (throughput on 2 cores)
  const seq = histogram();
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await argon2.hash(`password-${i}`, { type: argon2.argon2id, ...PARAMS });
    seq.recordValue(Math.round((performance.now() - t) * 1000));
  }
  const hashes = 60;
  let t0 = performance.now();
  await Promise.all(
    Array.from({ length: hashes }, (_, i) => argon2.hash(`pw-${i}`, { type: argon2.argon2id, ...PARAMS })),
  );
  const hashesPerSecond = hashes / ((performance.now() - t0) / 1000);

  const env: Record<string, string> = {
    AUTH_RATE_IP_PER_MINUTE: '1000000',
    AUTH_RATE_EMAIL_PER_15MIN: '1000000',
    AUTH_REGISTER_PER_IP_PER_HOUR: '1000000',
  };
  if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
  const hub = await startHubProcess(env);
  try {
    const users = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const email = `bench-${Date.now()}-${i}@bench.renex`;
        const res = await fetch(`${hub.url}/api/v1/auth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: 'bench password 123', displayName: `b${i}` }),
        });
        if (res.status !== 201) throw new Error(`register ${res.status}`);
        return email;
      }),
    );
    const lat = histogram();
    let ok = 0;
    let failed = 0;
    const deadline = performance.now() + SECONDS * 1000;
    t0 = performance.now();
    await Promise.all(
      users.map(async (email) => {
        while (performance.now() < deadline) {
          const t = performance.now();
          const res = await fetch(`${hub.url}/api/v1/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password: 'bench password 123' }),
          });
          await res.arrayBuffer();
          lat.recordValue(Math.round((performance.now() - t) * 1000));
          if (res.status === 200) ok++;
          else failed++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const loginsPerSecond = ok / elapsed;
    const result = {
      workload: 'auth',
      machine: machine(),
      parameters: {
        argon2id: PARAMS,
        clients: CLIENTS,
        seconds: SECONDS,
        database: env.DATABASE_URL ? 'postgres' : 'pglite',
      },
      baseline: { argon2HashMs: summary(seq), argon2HashesPerSecond: Math.round(hashesPerSecond) },
      hub: { loginsPerSecond: Math.round(loginsPerSecond), failed, latency: summary(lat) },
      ratio: Number((loginsPerSecond / hashesPerSecond).toFixed(2)),
    };
    printTable([
      { figure: 'argon2id hash p50 (ms)', value: result.baseline.argon2HashMs.p50ms },
      { figure: 'argon2id hashes/s (2 in flight)', value: result.baseline.argon2HashesPerSecond },
      { figure: `hub logins/s (${CLIENTS} clients)`, value: result.hub.loginsPerSecond },
      { figure: 'login p50 / p99 (ms)', value: `${result.hub.latency.p50ms} / ${result.hub.latency.p99ms}` },
      { figure: 'ratio logins/s : hashes/s', value: result.ratio },
    ]);
    console.log(`saved ${await saveResult('auth', result)}`);
  } finally {
    await hub.stop();
  }
}
