import { KubeSim, startKubeSim } from '@rust-delivery-portal/kube-sim';
import { RealCluster, startRealCluster } from '../RealCluster';
import { demoSeedForRealCluster } from '../demoSeed';
import { CrdSet, crdKinds } from '../crds';
import {
  SimulatedControllers,
  startSimulatedControllers,
} from '../controllers/SimulatedControllers';
import { ClusterMirror, MIRRORED_KINDS } from './ClusterMirror';
import {
  ClusterFaults,
  FaultProxy,
  ProxiedWrite,
  startFaultProxy,
} from './FaultProxy';
import { RestClient } from './RestClient';
import {
  KubernetesPluginSettings,
  REAL_CLUSTER_KUBERNETES_PLUGIN,
} from '../kubernetesPlugin';

export type ClusterTargetName = 'kube-sim' | 'real';

export interface TestClusterOptions {
  /** Pod lifecycle speed (kube-sim's controllers, the real cluster's node agent); default 0.05. */
  timeScale?: number;
  /** Objects to create before the cluster is handed over: 'demo' is kube-sim's demo seed. */
  seed?: 'demo' | object[];
  /** Faults in force from the start (watch drops apply to watches opened after they are set). */
  faults?: Partial<ClusterFaults>;
  /** Real target only: extra kube-apiserver flags (e.g. `--etcd-compaction-interval=2s`). */
  apiServerArgs?: string[];
  /**
   * API groups the suite needs beyond core Kubernetes. kube-sim serves both, with its simulated
   * controllers; the real target installs them as CRDs (packages/kube-real/src/crds) and runs
   * kube-sim's simulated Gateway API and Argo Rollouts controllers against the real API server.
   */
  crds?: CrdSet[];
}

/**
 * One cluster under test, whichever it is: the calls the suites make of kube-sim's `control`,
 * working the same on a real API server (through a fault proxy and a watch-fed mirror).
 */
export interface TestCluster {
  target: ClusterTargetName;
  /** Where HTTP clients (the portal, client-node) connect: kube-sim, or the real server's fault proxy. */
  url: string;
  /** A token that may do anything on this cluster. */
  token: string;
  /** What the Backstage Kubernetes plugin must be told about this cluster (kube-sim: nothing). */
  kubernetesPlugin: KubernetesPluginSettings;
  /** A kubeconfig for kubectl: kube-sim's, or the real server's own https endpoint with its CA. */
  kubeconfig(): string;
  control: {
    setFaults(f: Partial<ClusterFaults>): void;
    clearFaults(): void;
    /** Create or replace, through the API; resolves once `get` / `list` show what was written. */
    apply(objects: object[]): Promise<void>;
    get(
      apiVersion: string,
      kind: string,
      namespace: string,
      name: string,
    ): any | undefined;
    list(
      apiVersion: string,
      kind: string,
      namespace?: string,
      labelSelector?: string,
    ): any[];
    waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
    /** The writes clients sent to `url` (kube-sim's recorder, or the fault proxy's). */
    writes(pathPart?: string): ProxiedWrite[];
    resetWrites(): void;
  };
  /** The started kube-sim, on that target. */
  sim?: KubeSim;
  /** The started control plane, on the real target. */
  real?: RealCluster;
  /** The fault proxy in front of the real API server (what `url` points at), on the real target. */
  proxy?: FaultProxy;
  /** A client of the cluster itself, past any proxy, as `token`'s user. */
  rest: RestClient;
  /** On the real target: the watch-fed copy `control.get`/`list` read (and `recordChanges`). */
  mirror?: ClusterMirror;
  /** On the real target with `crds`: kube-sim's controllers for them, run against the server. */
  controllers?: SimulatedControllers;
  close(): Promise<void>;
}

export interface ClusterTarget {
  name: ClusterTargetName;
  start(options?: TestClusterOptions): Promise<TestCluster>;
}

async function startSimTarget(
  options: TestClusterOptions = {},
): Promise<TestCluster> {
  const sim = await startKubeSim({
    port: 0,
    timeScale: options.timeScale ?? 0.05,
    seed: options.seed,
    faults: options.faults,
  });
  const rest = new RestClient({ url: sim.url, token: 'kube-sim-token' });
  return {
    target: 'kube-sim',
    url: sim.url,
    token: 'kube-sim-token',
    kubernetesPlugin: {},
    kubeconfig: () => sim.kubeconfig(),
    control: {
      setFaults: f => sim.control.setFaults(f),
      clearFaults: () => sim.control.clearFaults(),
      apply: objects => sim.control.apply(objects),
      get: (...a) => sim.control.get(...a),
      list: (...a) => sim.control.list(...a),
      waitFor: (p, t) => sim.control.waitFor(p, t),
      writes: p => sim.control.writes(p),
      resetWrites: () => sim.control.resetWrites(),
    },
    sim,
    rest,
    close: async () => {
      rest.close();
      await sim.close();
    },
  };
}

/** Creates, or replaces at the current resourceVersion, one object; returns what was stored. */
async function createOrReplace(
  client: RestClient,
  mirror: ClusterMirror,
  obj: any,
): Promise<any> {
  const k = await mirror.resolve(obj.apiVersion, obj.kind);
  const ns = k.namespaced ? obj.metadata.namespace ?? 'default' : undefined;
  const collection = ClusterMirror.collection(k, ns);
  const body = {
    ...obj,
    metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) },
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const created = await client.request('POST', collection, body);
    if (created.status === 201 || created.status === 200) return created.body;
    const message = `${obj.kind} ${obj.metadata.name}: ${created.status} ${
      created.body?.message ?? JSON.stringify(created.body)
    }`;
    if (created.status === 400 || created.status === 422) {
      throw new Error(`creating ${message}`);
    }
    if (created.status !== 409) {
      // A namespace created a moment ago, its default ServiceAccount, a busy server: retry.
      if (attempt === 19) throw new Error(`creating ${message}`);
      await new Promise(r => setTimeout(r, 250));
      continue;
    }
    const itemPath = `${collection}/${obj.metadata.name}`;
    const current = await client.request('GET', itemPath);
    if (current.status !== 200) continue;
    const replaced = await client.request('PUT', itemPath, {
      ...body,
      metadata: {
        ...body.metadata,
        resourceVersion: current.body.metadata.resourceVersion,
      },
    });
    if (replaced.status === 200) return replaced.body;
    if (replaced.status !== 409) {
      throw new Error(
        `replacing ${obj.kind} ${obj.metadata.name} answered ${replaced.status}: ${replaced.body?.message}`,
      );
    }
  }
  throw new Error(
    `could not create or replace ${obj.kind} ${obj.metadata.name}`,
  );
}

async function waitUntil(
  predicate: () => boolean,
  timeoutMs: number,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 25));
  }
}

async function startRealTarget(
  options: TestClusterOptions = {},
): Promise<TestCluster> {
  const real = await startRealCluster({
    timeScale: options.timeScale ?? 0.05,
    apiServerArgs: options.apiServerArgs,
    crds: options.crds,
  });
  let proxy: FaultProxy | undefined;
  let mirror: ClusterMirror | undefined;
  let controllers: SimulatedControllers | undefined;
  try {
    const direct = {
      url: real.url,
      token: real.adminToken,
      caData: real.caData,
    };
    proxy = await startFaultProxy(direct);
    const client = new RestClient(direct);
    const m = new ClusterMirror(new RestClient(direct));
    mirror = m;
    await m.start([...MIRRORED_KINDS, ...crdKinds(options.crds ?? [])]);
    if (options.crds?.length) {
      controllers = startSimulatedControllers({
        client: new RestClient(direct),
        mirror: m,
        gatewayApi: options.crds.includes('gateway-api'),
        argoRollouts: options.crds.includes('argo-rollouts'),
        timeScale: options.timeScale ?? 0.05,
      });
    }
    const c = controllers;
    const apply = async (objects: object[]) => {
      for (const obj of objects as any[]) {
        const stored = await createOrReplace(client, m, obj);
        if (m.isMirrored(obj.apiVersion, obj.kind)) {
          await waitUntil(
            () =>
              m.has({ ...stored, apiVersion: obj.apiVersion, kind: obj.kind }),
            10_000,
            `${obj.kind} ${obj.metadata.name} in the mirror`,
          );
        }
      }
    };
    if (options.seed) {
      await apply(
        options.seed === 'demo'
          ? demoSeedForRealCluster(options.crds)
          : options.seed,
      );
    }
    if (options.faults) proxy.setFaults(options.faults);
    const p = proxy;
    return {
      target: 'real',
      url: p.url,
      token: real.adminToken,
      kubernetesPlugin: REAL_CLUSTER_KUBERNETES_PLUGIN,
      kubeconfig: () => real.kubeconfig('admin'),
      control: {
        setFaults: f => p.setFaults(f),
        clearFaults: () => p.clearFaults(),
        apply,
        get: (...a) => m.get(...a),
        list: (...a) => m.list(...a),
        waitFor: (predicate, timeoutMs = 10_000) =>
          waitUntil(predicate, timeoutMs),
        writes: pathPart => p.writes(pathPart),
        resetWrites: () => p.resetWrites(),
      },
      real,
      proxy: p,
      rest: client,
      controllers: c,
      mirror: m,
      close: async () => {
        c?.stop();
        m.stop();
        client.close();
        await p.close();
        await real.stop();
      },
    };
  } catch (e) {
    controllers?.stop();
    mirror?.stop();
    await proxy?.close();
    await real.stop();
    throw e;
  }
}

/**
 * The clusters a suite runs against, one `describe.each` row each: kube-sim, and a real
 * kube-apiserver 1.20.2 with its controllers and the node agent. The real one needs the control
 * plane built once per machine (packages/kube-real/scripts/build.sh); without it, its start fails
 * with a message that says so, and the suite fails: it is never skipped.
 */
export function clusterTargets(): ClusterTarget[] {
  return [
    { name: 'kube-sim', start: startSimTarget },
    { name: 'real', start: startRealTarget },
  ];
}
