// Latency statistics, a bounded closed-loop load generator, and /proc sampling of a process.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, i))];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean,
  };
}

/**
 * Sends `count` requests with `concurrency` in flight (closed loop), stopping early at
 * `timeLimitMs`. Latency is measured per successful request; errors are counted, not timed.
 */
export async function runLoad({ count, concurrency, timeLimitMs, request, keepLatencies = false }) {
  const latencies = [];
  let errors = 0;
  let firstError;
  let next = 0;
  const start = performance.now();
  const deadline = start + timeLimitMs;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        await request(i);
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - start;
  return {
    sent: next,
    ok: latencies.length,
    errors,
    firstError: firstError ? String(firstError.message ?? firstError) : undefined,
    wallMs,
    rps: latencies.length / (wallMs / 1000),
    ...summarize(latencies),
    ...(keepLatencies ? { latencies } : {}),
  };
}

let clockTicks;
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** User + system CPU seconds a process has used (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) is fields[12].
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns the value or undefined. */
export async function poll(probe, { timeoutMs, intervalMs = 250 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value;
    try {
      value = await probe();
    } catch {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}
