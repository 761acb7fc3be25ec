import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { kubectl } from './kubectl';
import { REAL_CLUSTER_KUBERNETES_PLUGIN } from './kubernetesPlugin';
import { startRealCluster } from './RealCluster';
import { demoSeedForRealCluster } from './demoSeed';
import { crdKinds } from './crds';
import { startSimulatedControllers } from './controllers/SimulatedControllers';
import { ClusterMirror, MIRRORED_KINDS } from './targets/ClusterMirror';
import { RestClient } from './targets/RestClient';

/* eslint-disable no-console */

const USAGE = `Usage: kube-real [--state-dir DIR] [--apply FILE.yaml]... [--seed demo|FILE.yaml]
                 [--nodes N] [--time-scale N] [--cluster-name local]

Starts a real Kubernetes control plane on loopback (etcd, kube-apiserver, controller manager,
scheduler, built once by packages/kube-real/scripts/build.sh) with simulated nodes, the Gateway API
and Argo Rollouts CRDs with kube-sim's simulated controllers for them, applies the
files with kubectl (--apply in order, then --seed), writes DIR/kubeconfig (admin),
DIR/cluster.json and DIR/app-config.yaml (the portal's cluster entry: reader token for the
Kubernetes plugin, engine token for the rollouts engine), and runs until interrupted.`;

function parseArgs(argv: string[]) {
  const args: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument: ${argv[i]}`);
    if (m[1] === 'help') {
      (args.help ??= []).push('true');
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`missing value for --${m[1]}`);
    (args[m[1]] ??= []).push(value);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const known = [
    'state-dir',
    'apply',
    'seed',
    'nodes',
    'time-scale',
    'cluster-name',
  ];
  const unknown = Object.keys(args).find(k => !known.includes(k));
  if (unknown) throw new Error(`unknown option --${unknown}\n\n${USAGE}`);
  const one = (k: string) => args[k]?.[args[k].length - 1];
  const stateDir = resolve(one('state-dir') ?? '.kube-real');
  const clusterName = one('cluster-name') ?? 'local';
  const begun = Date.now();
  const cluster = await startRealCluster({
    nodes: one('nodes') ? Number(one('nodes')) : 2,
    timeScale: one('time-scale') ? Number(one('time-scale')) : 1,
    log: line => console.log(line),
    crds: ['gateway-api', 'argo-rollouts'],
  });
  // The demo's payments-api routes through an HTTPRoute and shipping-api is an Argo Rollout:
  // kube-sim's simulated gateway and Argo controllers move them here, against the real server.
  const endpoint = {
    url: cluster.url,
    token: cluster.adminToken,
    caData: cluster.caData,
  };
  const mirror = new ClusterMirror(new RestClient(endpoint));
  await mirror.start([
    ...MIRRORED_KINDS,
    ...crdKinds(['gateway-api', 'argo-rollouts']),
  ]);
  const controllers = startSimulatedControllers({
    client: new RestClient(endpoint),
    mirror,
    gatewayApi: true,
    argoRollouts: true,
    timeScale: one('time-scale') ? Number(one('time-scale')) : 1,
    log: line => console.log(line),
  });
  const stop = async (signal: string) => {
    console.log(`kube-real: ${signal}, stopping`);
    controllers.stop();
    mirror.stop();
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // The control plane's processes do not hold the event loop; this does, until a signal.
  setInterval(() => {}, 1 << 30);

  const admin = cluster.kubeconfig();
  const seed = one('seed');
  mkdirSync(stateDir, { recursive: true });
  let seedFile = seed;
  if (seed === 'demo') {
    seedFile = join(stateDir, 'demo-seed.yaml');
    writeFileSync(
      seedFile,
      demoSeedForRealCluster(['gateway-api', 'argo-rollouts'])
        .map(o => stringify(o))
        .join('---\n'),
    );
  }
  const files = [...(args.apply ?? []), ...(seedFile ? [seedFile] : [])];
  for (const f of files) {
    console.log(await kubectl(admin, ['apply', '-f', resolve(f)]));
  }
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'kubeconfig'), admin, { mode: 0o600 });
  writeFileSync(
    join(stateDir, 'cluster.json'),
    JSON.stringify(
      {
        url: cluster.url,
        caData: cluster.caData,
        adminToken: cluster.adminToken,
        tokens: cluster.tokens,
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  writeFileSync(
    join(stateDir, 'app-config.yaml'),
    stringify({
      kubernetes: {
        apiVersionOverrides: REAL_CLUSTER_KUBERNETES_PLUGIN.apiVersionOverrides,
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: clusterName,
                url: cluster.url,
                authProvider: 'serviceAccount',
                serviceAccountToken: cluster.tokens.reader,
                caData: Buffer.from(cluster.caData).toString('base64'),
                skipMetricsLookup:
                  REAL_CLUSTER_KUBERNETES_PLUGIN.skipMetricsLookup,
              },
            ],
          },
        ],
      },
      rollouts: {
        clusters: [
          { name: clusterName, serviceAccountToken: cluster.tokens.engine },
        ],
      },
    }),
    { mode: 0o600 },
  );
  console.log(
    `kube-real ready on ${cluster.url} after ${(
      (Date.now() - begun) /
      1000
    ).toFixed(1)} s; ` +
      `kubectl --kubeconfig ${join(
        stateDir,
        'kubeconfig',
      )} get pods -A; logs in ${cluster.dir}`,
  );
}

main().catch(e => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
