// Process facts from /proc: memory, CPU time per process and for the machine, TCP counters.
import { readdir, readFile } from 'node:fs/promises';
import type { Swarm } from './swarms.js';

/** Resident set size of process `pid` in bytes (VmRSS of /proc/<pid>/status). */
export async function rssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = text.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) process `pid` has used so far (/proc/<pid>/stat, 100 ticks/s). */
export async function cpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which is in parentheses and may hold spaces)
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/**
 * CPU seconds used by the processes named `comm` (e.g. postgres): their own time plus that of
 * their exited children (a backend that ended is counted in the postmaster's).
 */
export async function cpuSecondsOf(comm: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readFile(`/proc/${entry}/comm`, 'utf8')).trim() !== comm) continue;
      const text = await readFile(`/proc/${entry}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
    } catch {}
  }
  return total;
}

/** Where the CPU went during a phase, in cores (CPU seconds per second of wall time). */
export interface CpuSplit {
  seconds: number;
  /** the hub nodes or bare relays */
  server: number;
  /** the swarm child processes */
  swarms: number;
  /** this process (publisher, negotiating clients) */
  bench: number;
  postgres: number;
  redis: number;
  /** the whole machine (/proc/stat, busy = all but idle and iowait) */
  machine: number;
  /** the machine minus the processes above: anything else running on the box meanwhile */
  other: number;
}

/** Busy CPU seconds of the whole machine so far (/proc/stat, USER_HZ = 100). */
async function machineBusySeconds(): Promise<number> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = user + nice + system + irq + softirq
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)) / 100;
}

/** Starts counting CPU time of the server processes, the swarms, this process, PostgreSQL and Redis. */
export async function cpuMeter(serverPids: number[], swarms: Swarm[]): Promise<() => Promise<CpuSplit>> {
  const snap = async () => {
    let server = 0;
    for (const pid of serverPids) server += await cpuSeconds(pid).catch(() => 0);
    let swarm = 0;
    for (const s of swarms) {
      const u = await s.call<{ cpu: { user: number; system: number } }>('usage');
      swarm += (u.cpu.user + u.cpu.system) / 1e6;
    }
    const me = process.cpuUsage();
    return {
      t: performance.now(),
      server,
      swarm,
      bench: (me.user + me.system) / 1e6,
      postgres: await cpuSecondsOf('postgres'),
      redis: await cpuSecondsOf('redis-server'),
      machine: await machineBusySeconds(),
    };
  };
  const a = await snap();
  return async () => {
    const b = await snap();
    const s = (b.t - a.t) / 1000;
    const cores = (x: number) => Number((x / s).toFixed(2));
    const known =
      b.server -
      a.server +
      (b.swarm - a.swarm) +
      (b.bench - a.bench) +
      (b.postgres - a.postgres) +
      (b.redis - a.redis);
    return {
      seconds: Number(s.toFixed(2)),
      server: cores(b.server - a.server),
      swarms: cores(b.swarm - a.swarm),
      bench: cores(b.bench - a.bench),
      postgres: cores(b.postgres - a.postgres),
      redis: cores(b.redis - a.redis),
      machine: cores(b.machine - a.machine),
      other: cores(Math.max(0, b.machine - a.machine - known)),
    };
  };
}

/**
 * TcpExt counters of this network namespace (/proc/net/netstat), e.g. ListenOverflows (connections
 * dropped on a full accept queue) and TCPSynRetrans (SYNs sent again after such a drop).
 */
export async function tcpCounters(names: string[]): Promise<Record<string, number>> {
  const lines = (await readFile('/proc/net/netstat', 'utf8')).split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (!lines[i]!.startsWith('TcpExt:')) continue;
    const keys = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    for (const n of names) {
      const at = keys.indexOf(n);
      if (at >= 0) out[n] = Number(values[at]);
    }
  }
  return out;
}
