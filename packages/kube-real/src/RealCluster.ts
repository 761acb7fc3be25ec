import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateBinaries } from './binaries';
import { createCertificates } from './certificates';
import { ControlPlaneProcess } from './ControlPlaneProcess';
import { tokenKubeconfig } from './kubeconfig';
import { freePorts } from './ports';
import { probe, waitFor } from './probe';
import { NodeAgent, startNodeAgent } from './agent/NodeAgent';
import { CrdSet, installCrds } from './crds';
import { RestClient } from './targets/RestClient';

/** Service cluster IPs; nothing routes them (there is no kube-proxy), they are only names. */
const SERVICE_CIDR = '10.96.0.0/16';
const KUBERNETES_SERVICE_IP = '10.96.0.1';

export interface RealClusterOptions {
  /** Simulated nodes of the node agent (names, or how many); 0 starts no agent. Default 1. */
  nodes?: string[] | number;
  /** Time scale of the agent's pod lifecycle (1 = real seconds, default; tests use 0.1). */
  timeScale?: number;
  /** Where the cluster's temporary folder is made; default /dev/shm (etcd's fsyncs cost nothing there). */
  tmpDir?: string;
  /** Keep the temporary folder (logs, etcd data) after stop(). */
  keepFiles?: boolean;
  /** Extra kube-apiserver flags, e.g. `--etcd-compaction-interval=10s`. */
  apiServerArgs?: string[];
  /**
   * API groups this server lacks, installed as our own CRDs once it is ready: 'gateway-api'
   * (Gateway, HTTPRoute v1), 'argo-rollouts' (Rollout v1alpha1). Nothing acts on them unless a
   * controller is started (`startSimulatedControllers`, or the test targets' `crds` option).
   */
  crds?: CrdSet[];
  /** Folder with kube-apiserver, kube-controller-manager and kube-scheduler; default the build cache. */
  binDir?: string;
  /** How long the control plane may take to come up; default 120 s (the machine may be busy). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export type RealClusterUser = 'admin' | 'engine' | 'reader';

export interface RealCluster {
  /** https://127.0.0.1:PORT */
  url: string;
  /** The cluster CA certificate (PEM) that signed the API server's serving certificate. */
  caData: string;
  /** A token of `kube-real-admin`, in group system:masters. */
  adminToken: string;
  /** Tokens of the users `rollouts-engine` and `kubernetes-reader` (no permissions of their own: bind them). */
  tokens: { engine: string; reader: string };
  /** Kubeconfig YAML for one of the token users (default admin). */
  kubeconfig(user?: RealClusterUser): string;
  /** The node agent, when nodes were asked for. */
  agent?: NodeAgent;
  /** The cluster's temporary folder: logs of every process (`*.log`), etcd data, certificates. */
  dir: string;
  stop(): Promise<void>;
}

function token(): string {
  return randomBytes(24).toString('hex');
}

/**
 * Starts a real Kubernetes control plane on loopback: etcd, kube-apiserver (TLS with a fresh CA,
 * token authentication, Node and RBAC authorization), kube-controller-manager and kube-scheduler,
 * each on a free 127.0.0.1 port, and a node agent that runs pods as kube-sim does. Resolves once
 * the API server is ready, the controllers have created the default service account and the nodes
 * are schedulable. Every process ends with stop(), or with this Node process.
 */
export async function startRealCluster(
  options: RealClusterOptions = {},
): Promise<RealCluster> {
  const bins = locateBinaries(options.binDir);
  const log = options.log ?? (() => {});
  const timeout = options.startTimeoutMs ?? 120_000;
  const parent =
    options.tmpDir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dir = mkdtempSync(join(parent, 'kube-real-'));
  const file = (name: string) => join(dir, name);
  const started: ControlPlaneProcess[] = [];
  let agent: NodeAgent | undefined;

  const stop = async () => {
    await agent?.stop();
    // All at once: nothing they would write on the way down is kept.
    await Promise.all(started.map(p => p.stop()));
    if (!options.keepFiles) rmSync(dir, { recursive: true, force: true });
  };
  const alive = () => {
    for (const p of started)
      if (!p.running) throw p.failure('stopped while the cluster was starting');
  };
  /** Waits for `ready`; a timeout quotes the log of the process that should have got there. */
  const readyOf = async (
    p: ControlPlaneProcess,
    what: string,
    ready: () => Promise<boolean>,
  ) => {
    try {
      await waitFor(what, ready, timeout, alive);
    } catch (e) {
      if (p.running)
        throw p.failure(`${(e as Error).message.replace(/^kube-real: /, '')}`);
      throw e;
    }
  };
  const run = (name: string, command: string, args: string[], extra = {}) => {
    const p = new ControlPlaneProcess(
      name,
      command,
      args,
      file(`${name}.log`),
      extra,
    );
    started.push(p);
    return p;
  };

  try {
    const begun = Date.now();
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] =
      await freePorts(5);
    const certs = createCertificates(dir, KUBERNETES_SERVICE_IP);
    const adminToken = token();
    const tokens = { engine: token(), reader: token() };
    const kcmToken = token();
    const schedulerToken = token();
    // token,user,uid,"groups": static users; the ServiceAccount tokens of the token controller work too.
    writeFileSync(
      file('tokens.csv'),
      [
        `${adminToken},kube-real-admin,kube-real-admin,"system:masters"`,
        `${tokens.engine},rollouts-engine,rollouts-engine`,
        `${tokens.reader},kubernetes-reader,kubernetes-reader`,
        `${kcmToken},system:kube-controller-manager,system:kube-controller-manager`,
        `${schedulerToken},system:kube-scheduler,system:kube-scheduler`,
      ].join('\n'),
      { mode: 0o600 },
    );
    const url = `https://127.0.0.1:${apiPort}`;
    const componentConfig = (name: string, t: string) => {
      writeFileSync(
        file(`${name}.kubeconfig`),
        tokenKubeconfig(url, { file: certs.caCert }, name, t),
        {
          mode: 0o600,
        },
      );
      return file(`${name}.kubeconfig`);
    };

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = run(
      'etcd',
      bins.etcd,
      [
        '--name=kube-real',
        `--data-dir=${file('etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=kube-real=http://127.0.0.1:${etcdPeer}`,
        '--initial-cluster-state=new',
        '--log-level=warn',
        '--logger=zap',
      ],
      // Should this process be killed, the last guard standing removes the temporary folder.
      { cleanupOnParentExit: options.keepFiles ? undefined : dir },
    );
    await readyOf(
      etcd,
      'etcd /health',
      async () => (await probe(`${etcdUrl}/health`))?.status === 200,
    );
    log(`kube-real: etcd on ${etcdUrl} after ${Date.now() - begun} ms`);

    const apiserver = run('kube-apiserver', bins.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--insecure-port=0',
      '--advertise-address=127.0.0.1',
      // The `kubernetes` Service's Endpoints would carry the advertise address, and Endpoints may
      // not hold loopback addresses: the reconciler is off rather than failing every 10 s.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${file('apiserver-certs')}`,
      `--tls-cert-file=${certs.servingCert}`,
      `--tls-private-key-file=${certs.servingKey}`,
      `--client-ca-file=${certs.caCert}`,
      `--token-auth-file=${file('tokens.csv')}`,
      `--service-account-key-file=${certs.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${certs.serviceAccountPrivateKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=Node,RBAC',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
      '--profiling=false',
      ...(options.apiServerArgs ?? []),
    ]);
    await readyOf(
      apiserver,
      'kube-apiserver /readyz',
      async () =>
        (
          await probe(`${url}/readyz`, { ca: certs.caData, token: adminToken })
        )?.status === 200,
    );
    log(`kube-real: kube-apiserver on ${url} after ${Date.now() - begun} ms`);
    if (options.crds?.length) {
      const client = new RestClient({
        url,
        token: adminToken,
        caData: certs.caData,
      });
      try {
        await installCrds(client, options.crds, timeout);
      } finally {
        client.close();
      }
      log(
        `kube-real: CRDs ${options.crds.join(', ')} served after ${
          Date.now() - begun
        } ms`,
      );
    }

    mkdirSync(file('kcm-certs'));
    mkdirSync(file('scheduler-certs'));
    const kcmConfig = componentConfig(
      'system:kube-controller-manager',
      kcmToken,
    );
    const controllerManager = run(
      'kube-controller-manager',
      bins.kubeControllerManager,
      [
        `--kubeconfig=${kcmConfig}`,
        `--authentication-kubeconfig=${kcmConfig}`,
        `--authorization-kubeconfig=${kcmConfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        '--port=0',
        `--cert-dir=${file('kcm-certs')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${certs.serviceAccountPrivateKey}`,
        `--root-ca-file=${certs.caCert}`,
        `--cluster-signing-cert-file=${certs.caCert}`,
        `--cluster-signing-key-file=${certs.caKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--profiling=false',
      ],
    );
    const schedulerConfig = componentConfig(
      'system:kube-scheduler',
      schedulerToken,
    );
    const scheduler = run('kube-scheduler', bins.kubeScheduler, [
      `--kubeconfig=${schedulerConfig}`,
      `--authentication-kubeconfig=${schedulerConfig}`,
      `--authorization-kubeconfig=${schedulerConfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedulerPort}`,
      '--port=0',
      `--cert-dir=${file('scheduler-certs')}`,
      '--leader-elect=false',
      '--profiling=false',
    ]);
    const adminKubeconfig = tokenKubeconfig(
      url,
      { data: certs.caData },
      'kube-real-admin',
      adminToken,
    );
    // Pods are admitted only once the token controller has given the namespace's default
    // ServiceAccount its token Secret (1.20 mounts Secret tokens).
    await readyOf(
      controllerManager,
      'the default ServiceAccount token (token controller)',
      async () => {
        const res = await probe(
          `${url}/api/v1/namespaces/default/serviceaccounts/default`,
          {
            ca: certs.caData,
            token: adminToken,
          },
        );
        return (
          res?.status === 200 && (JSON.parse(res.body).secrets ?? []).length > 0
        );
      },
    );
    await readyOf(
      scheduler,
      'kube-scheduler /healthz',
      async () =>
        (
          await probe(`https://127.0.0.1:${schedulerPort}/healthz`, {
            insecure: true,
          })
        )?.status === 200,
    );
    log(
      `kube-real: controller manager and scheduler up after ${
        Date.now() - begun
      } ms`,
    );

    if (
      options.nodes !== 0 &&
      !(Array.isArray(options.nodes) && options.nodes.length === 0)
    ) {
      agent = await startNodeAgent({
        kubeconfig: adminKubeconfig,
        nodes: options.nodes,
        timeScale: options.timeScale,
        log,
        readyTimeoutMs: timeout,
      });
      log(
        `kube-real: nodes ${agent.nodes.join(', ')} schedulable after ${
          Date.now() - begun
        } ms`,
      );
    }

    const userTokens: Record<RealClusterUser, [string, string]> = {
      admin: ['kube-real-admin', adminToken],
      engine: ['rollouts-engine', tokens.engine],
      reader: ['kubernetes-reader', tokens.reader],
    };
    return {
      url,
      caData: certs.caData,
      adminToken,
      tokens,
      kubeconfig: (user = 'admin') =>
        tokenKubeconfig(url, { data: certs.caData }, ...userTokens[user]),
      agent,
      dir,
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
