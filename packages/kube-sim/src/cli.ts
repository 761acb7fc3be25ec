import path from 'node:path';
import { startKubeSim, KubeSimFaults } from './KubeSim';
import {
  RunningPrometheus,
  startPrometheus,
} from './prometheus/startPrometheus';

/* eslint-disable no-console */

const USAGE = `Usage: kube-sim [--port N] [--host H] [--seed demo|FILE.yaml] [--time-scale N]
                [--error-rate X] [--latency-ms N] [--drop-watch-after-ms N] [--conflict-rate X]
                [--prometheus-port N]

--prometheus-port: annotated pods serve /metrics on their 127.x IPs, and a Prometheus (Debian's
  prometheus binary, which must be installed) scrapes them, listening on 127.0.0.1:N.

kube-sim is a development and test tool that speaks the Kubernetes API; it is not a cluster.`;

function parseArgs(argv: string[]) {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      args.help = 'true';
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument: ${a}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`missing value for --${m[1]}`);
    args[m[1]] = value;
  }
  return args;
}

function num(args: Record<string, string>, key: string): number | undefined {
  if (args[key] === undefined) return undefined;
  const n = Number(args[key]);
  if (!Number.isFinite(n))
    throw new Error(`--${key} must be a number, got ${args[key]}`);
  return n;
}

async function main() {
  let args: Record<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const known = [
    'port',
    'host',
    'seed',
    'time-scale',
    'error-rate',
    'latency-ms',
    'drop-watch-after-ms',
    'conflict-rate',
    'prometheus-port',
  ];
  const unknown = Object.keys(args).filter(k => !known.includes(k));
  if (unknown.length) {
    console.error(`unknown option --${unknown[0]}\n\n${USAGE}`);
    process.exit(2);
  }
  const faults: Partial<KubeSimFaults> = {};
  const map: Array<[string, keyof KubeSimFaults]> = [
    ['error-rate', 'errorRate'],
    ['latency-ms', 'latencyMs'],
    ['drop-watch-after-ms', 'dropWatchAfterMs'],
    ['conflict-rate', 'conflictRate'],
  ];
  for (const [flag, key] of map) {
    const v = num(args, flag);
    if (v !== undefined) faults[key] = v;
  }
  console.log(
    'kube-sim: a Kubernetes API simulator for development and tests; it is not a cluster and runs no containers.',
  );
  const sim = await startKubeSim({
    port: num(args, 'port') ?? 0,
    host: args.host,
    // `yarn kube-sim` runs in this package's folder; a seed path is relative to where it was typed.
    seed:
      args.seed && args.seed !== 'demo'
        ? path.resolve(process.env.INIT_CWD ?? process.cwd(), args.seed)
        : args.seed,
    timeScale: num(args, 'time-scale') ?? 1,
    podMetrics: args['prometheus-port'] !== undefined,
    faults,
    log: line => console.log(line),
  });
  if (Object.keys(faults).length)
    console.log(`kube-sim: fault injection on: ${JSON.stringify(faults)}`);
  console.log(
    `kube-sim: kubectl --server ${sim.url} get pods -A   (or use this kubeconfig:)`,
  );
  console.log(sim.kubeconfig().replace(/^/gm, '  '));
  let prometheus: RunningPrometheus | undefined;
  const prometheusPort = num(args, 'prometheus-port');
  if (prometheusPort !== undefined) {
    prometheus = await startPrometheus({
      targetsFile: sim.prometheusTargetsFile!,
      port: prometheusPort,
      scrapeIntervalSeconds: 2,
      log: line => console.log(line),
    });
    console.log(
      `kube-sim: Prometheus on ${prometheus.url} scrapes the pods annotated prometheus.io/scrape`,
    );
  }
  const stop = async () => {
    await prometheus?.stop();
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(e => {
  console.error(`kube-sim: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
