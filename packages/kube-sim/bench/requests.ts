/**
 * Request benchmark: a few thousand GETs and LISTs against the demo-seeded simulator, with client
 * and server in this one Node process (so on one core). Prints request counts, throughput and
 * server-side p50/p99 latency per request type.
 *
 *   yarn workspace @rust-delivery-portal/kube-sim bench [--requests N] [--concurrency N]
 */
import http from 'node:http';
import { startKubeSim } from '../src';

/* eslint-disable no-console */

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

async function main() {
  const total = arg('requests', 4000);
  const concurrency = arg('concurrency', 8);
  const sim = await startKubeSim({ port: 0, seed: 'demo', timeScale: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const paths = [
    '/apis/apps/v1/namespaces/payments/deployments/payments-api',
    '/api/v1/namespaces/payments/pods',
    '/api/v1/pods?labelSelector=backstage.io%2Fkubernetes-id%3Dpayments-api',
    '/apis/apps/v1/namespaces/checkout/replicasets?labelSelector=app.kubernetes.io%2Fname%3Dcheckout-web',
    '/api/v1/namespaces/inventory/services',
    '/apis/apps/v1',
  ];
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${sim.url}${path}`, { agent }, res => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`${path}: ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
    });
  // Let the demo workloads settle, then warm up.
  await new Promise(r => setTimeout(r, 1500));
  for (const p of paths) await get(p);
  sim.control.resetCounts();

  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await get(paths[i % paths.length]);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / total;
  const counts = sim.control.requestCounts();
  const latencies = sim.control.latencies();
  const rows = Object.entries(counts.byType)
    .sort()
    .map(([type, count]) => {
      const sorted = [...(latencies[type] ?? [])].sort((a, b) => a - b);
      return {
        type,
        count,
        p50: percentile(sorted, 50).toFixed(2),
        p99: percentile(sorted, 99).toFixed(2),
      };
    });
  const width = Math.max(...rows.map(r => r.type.length), 12);
  console.log(
    `kube-sim request benchmark: ${counts.total} requests, concurrency ${concurrency}, client and server on one Node process`,
  );
  console.log(
    `${'request type'.padEnd(width)}  ${'count'.padStart(
      6,
    )}  ${'p50 ms'.padStart(7)}  ${'p99 ms'.padStart(7)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.type.padEnd(width)}  ${String(r.count).padStart(
        6,
      )}  ${r.p50.padStart(7)}  ${r.p99.padStart(7)}`,
    );
  }
  console.log(
    `throughput: ${Math.round(
      counts.total / seconds,
    )} requests/s in ${seconds.toFixed(2)} s wall clock`,
  );
  console.log(
    `CPU: ${cpuMsPerRequest.toFixed(
      3,
    )} ms per request, client included: ${Math.round(
      1000 / cpuMsPerRequest,
    )} requests per CPU-second`,
  );
  agent.destroy();
  await sim.close();
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
