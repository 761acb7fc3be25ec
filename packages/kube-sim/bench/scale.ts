/**
 * Scale benchmark: one simulator with many Deployments (default 1000 x 2 replicas, each with a
 * Service, all in one namespace as `make bench` lays them out), in a child process of its own so
 * that its CPU and event loop are measured alone. Prints:
 *
 * - how long the seeded Deployments take to become available;
 * - CPU % of the simulator process while idle (nothing changes, only time-driven work);
 * - client-side p50 / p99 / max latency of `GET /version` and of `GET` one Deployment, sampled
 *   sequentially while Deployments' images are patched at a steady rate (each patch is a rollout:
 *   a new ReplicaSet, new pods, old pods removed, Endpoints and events updated), with the CPU % and
 *   the longest event-loop block of the simulator during that churn.
 *
 *   yarn workspace @rust-delivery-portal/kube-sim bench:scale [--deployments 1000] [--replicas 2]
 *     [--churn-seconds 30] [--patches-per-second 10] [--time-scale 1] [--idle-seconds 10]
 */
import http from 'node:http';
import { fork, ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startKubeSim } from '../src';

/* eslint-disable no-console */

const NAMESPACE = 'scale';

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

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function objects(count: number, replicas: number): object[] {
  const out: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  ];
  for (let i = 0; i < count; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const labels = { app: name, 'backstage.io/kubernetes-id': name };
    out.push(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: NAMESPACE, labels },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `ghcr.io/acme/${name}:1.0.0`,
                  ports: [{ containerPort: 8080, name: 'http' }],
                  readinessProbe: {
                    httpGet: { path: '/health/ready', port: 8080 },
                    initialDelaySeconds: 1,
                    periodSeconds: 2,
                  },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: NAMESPACE, labels },
        spec: {
          selector: { app: name },
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      },
    );
  }
  return out;
}

/** The child: runs the simulator and answers the parent's questions over IPC. */
async function server() {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let sim: Awaited<ReturnType<typeof startKubeSim>> | undefined;
  process.on('message', async (m: any) => {
    const reply = (value: unknown) => process.send!({ id: m.id, value });
    if (m.cmd === 'start') {
      sim = await startKubeSim({
        port: 0,
        timeScale: m.timeScale,
        seed: objects(m.deployments, m.replicas),
      });
      loop.enable();
      reply(sim.url);
    } else if (m.cmd === 'available') {
      const list = sim!.control.list('apps/v1', 'Deployment', NAMESPACE);
      reply(
        list.filter(
          d =>
            d.status?.observedGeneration === d.metadata.generation &&
            d.status?.updatedReplicas === d.spec.replicas &&
            d.status?.availableReplicas === d.spec.replicas &&
            d.status?.replicas === d.spec.replicas,
        ).length,
      );
    } else if (m.cmd === 'cpu') {
      const u = process.cpuUsage();
      reply({ cpuMs: (u.user + u.system) / 1000, at: Date.now() });
    } else if (m.cmd === 'loop') {
      reply({ maxMs: loop.max / 1e6, p99Ms: loop.percentile(99) / 1e6 });
      loop.reset();
    } else if (m.cmd === 'stop') {
      await sim?.close();
      reply(true);
      process.exit(0);
    }
  });
}

class Child {
  private next = 0;
  private readonly waiting = new Map<number, (v: any) => void>();
  constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: any) => {
      this.waiting.get(m.id)?.(m.value);
      this.waiting.delete(m.id);
    });
  }
  call(cmd: string, extra: object = {}): Promise<any> {
    const id = this.next++;
    return new Promise(resolve => {
      this.waiting.set(id, resolve);
      this.proc.send({ id, cmd, ...extra });
    });
  }
}

async function cpuPercent(child: Child, seconds: number): Promise<number> {
  const a = await child.call('cpu');
  await sleep(seconds * 1000);
  const b = await child.call('cpu');
  return (100 * (b.cpuMs - a.cpuMs)) / (b.at - a.at);
}

async function main() {
  const deployments = arg('deployments', 1000);
  const replicas = arg('replicas', 2);
  const churnSeconds = arg('churn-seconds', 30);
  const patchesPerSecond = arg('patches-per-second', 10);
  const timeScale = arg('time-scale', 1);
  const idleSeconds = arg('idle-seconds', 10);
  const proc = fork(__filename, ['--server'], { stdio: 'inherit' });
  const child = new Child(proc);
  const started = Date.now();
  const url: string = await child.call('start', {
    deployments,
    replicas,
    timeScale,
  });
  const seeded = Date.now();
  for (;;) {
    const n = await child.call('available');
    if (n === deployments) break;
    if (Date.now() - started > 15 * 60_000)
      throw new Error(`only ${n} of ${deployments} available after 15 min`);
    await sleep(1000);
  }
  const availableAfter = (Date.now() - seeded) / 1000;
  console.log(
    `kube-sim scale benchmark: ${deployments} Deployments x ${replicas} replicas + ${deployments} Services in one namespace, timeScale ${timeScale}`,
  );
  console.log(
    `seed applied in ${((seeded - started) / 1000).toFixed(
      1,
    )} s; all Deployments available ${availableAfter.toFixed(1)} s later`,
  );
  await sleep(3000);
  const idleCpu = await cpuPercent(child, idleSeconds);
  console.log(`idle: ${idleCpu.toFixed(1)} % CPU of the simulator process`);

  const agent = new http.Agent({ keepAlive: true });
  const request = (method: string, path: string, body?: object) =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const data = body ? JSON.stringify(body) : undefined;
      const req = http.request(
        `${url}${path}`,
        {
          method,
          agent,
          headers: data
            ? {
                'content-type': 'application/strategic-merge-patch+json',
                'content-length': Buffer.byteLength(data),
              }
            : {},
        },
        res => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Number(process.hrtime.bigint() - t0) / 1e6)
              : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(data);
    });

  const deploymentPath = (i: number) =>
    `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/svc-${String(i).padStart(
      4,
      '0',
    )}`;
  const latencies: Record<string, number[]> = {
    'GET /version': [],
    'GET deployment': [],
    'PATCH deployment image': [],
  };
  let stop = false;
  const patcher = (async () => {
    let n = 0;
    const every = 1000 / patchesPerSecond;
    const t0 = Date.now();
    const inFlight: Promise<void>[] = [];
    while (!stop) {
      const i = n % deployments;
      const name = `svc-${String(i).padStart(4, '0')}`;
      inFlight.push(
        request('PATCH', deploymentPath(i), {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: `ghcr.io/acme/${name}:1.0.${n + 1}`,
                  },
                ],
              },
            },
          },
        }).then(ms => {
          latencies['PATCH deployment image'].push(ms);
        }),
      );
      n++;
      const due = t0 + n * every;
      await sleep(Math.max(0, due - Date.now()));
    }
    await Promise.all(inFlight);
    return n;
  })();
  const prober = (async () => {
    let i = 0;
    while (!stop) {
      latencies['GET /version'].push(await request('GET', '/version'));
      latencies['GET deployment'].push(
        await request('GET', deploymentPath((i * 7919) % deployments)),
      );
      i++;
      await sleep(50);
    }
  })();
  await child.call('loop');
  const churnCpu = cpuPercent(child, churnSeconds);
  await sleep(churnSeconds * 1000);
  const cpu = await churnCpu;
  stop = true;
  const patches = await patcher;
  await prober;
  const loop = await child.call('loop');
  console.log(
    `churn: ${patches} image patches in ${churnSeconds} s (${patchesPerSecond}/s), ${cpu.toFixed(
      1,
    )} % CPU, longest event-loop block ${loop.maxMs.toFixed(0)} ms`,
  );
  console.log(
    `${'request (client side, during churn)'.padEnd(36)}  ${'count'.padStart(
      6,
    )}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}  ${'max ms'.padStart(
      8,
    )}`,
  );
  for (const [type, values] of Object.entries(latencies)) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${type.padEnd(36)}  ${String(sorted.length).padStart(6)}  ${percentile(
        sorted,
        50,
      )
        .toFixed(1)
        .padStart(8)}  ${percentile(sorted, 99).toFixed(1).padStart(8)}  ${(
        sorted[sorted.length - 1] ?? 0
      )
        .toFixed(1)
        .padStart(8)}`,
    );
  }
  // Let the last rollouts finish, then check the simulator caught up with all of them.
  const settleStart = Date.now();
  for (;;) {
    const n = await child.call('available');
    if (n === deployments) break;
    if (Date.now() - settleStart > 5 * 60_000) {
      console.log(`after churn: only ${n} of ${deployments} available`);
      break;
    }
    await sleep(500);
  }
  console.log(
    `after churn: all rolled out ${((Date.now() - settleStart) / 1000).toFixed(
      1,
    )} s after the last patch`,
  );
  agent.destroy();
  await child.call('stop');
}

if (process.argv.includes('--server')) {
  server().catch(e => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch(e => {
    console.error(e);
    process.exit(1);
  });
}
