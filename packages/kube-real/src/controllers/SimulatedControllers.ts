import {
  ArgoRolloutController,
  CONTROLLER_TYPES as TYPES,
  ControllerContext,
  PodRuntime,
  ResourceType,
  reconcileGateway,
  reconcileHttpRoute,
} from '@rust-delivery-portal/kube-sim';
import { ClusterMirror } from '../targets/ClusterMirror';
import { RestClient } from '../targets/RestClient';

/**
 * kube-sim's simulated Gateway API controller and its simulation of Argo Rollouts, run as
 * external controllers against a real API server, as the node agent drives pods: the same code
 * that moves kube-sim's objects, reading a watch-fed mirror and writing through the real API
 * (status through `/status`, every write at the resourceVersion it read). The real server then
 * validates and defaults what they write and its ReplicaSet controller makes the pods.
 *
 * The controllers are written against kube-sim's synchronous store: here a pass reads the mirror,
 * collects its writes, then sends them in order (a later write of the same object goes at the
 * resourceVersion the earlier one got). A write that loses a race (409) is dropped; the watch
 * event of the newer version starts another pass, as a controller's requeue does.
 */

interface Write {
  type: ResourceType;
  obj: any;
  verb: 'create' | 'update';
  subresource?: string;
}

const gv = (t: ResourceType) =>
  t.group ? `${t.group}/${t.version}` : t.version;

function collectionPath(t: ResourceType, namespace: string) {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced
    ? `${base}/namespaces/${namespace}/${t.plural}`
    : `${base}/${t.plural}`;
}

/** The part of kube-sim's ObjectStore the two controllers call, over the mirror. */
class MirrorStore {
  /** What this pass wrote, read back by the rest of the pass. */
  private readonly overlay = new Map<string, any>();
  readonly writes: Write[] = [];

  constructor(private readonly mirror: ClusterMirror) {}

  private key(t: ResourceType, ns: string, name: string) {
    return `${gv(t)}/${t.kind}/${t.namespaced ? ns : ''}/${name}`;
  }

  get(t: ResourceType, namespace: string, name: string) {
    const ns = t.namespaced ? namespace : '';
    const obj =
      this.overlay.get(this.key(t, ns, name)) ??
      this.mirror.get(gv(t), t.kind, ns, name);
    return obj ? { obj } : undefined;
  }

  all(t: ResourceType, namespace?: string) {
    return this.mirror.list(gv(t), t.kind, namespace).map(obj => ({
      obj: this.get(t, obj.metadata.namespace ?? '', obj.metadata.name)!.obj,
    }));
  }

  create(t: ResourceType, input: any) {
    const obj = { apiVersion: gv(t), kind: t.kind, ...structuredClone(input) };
    this.writes.push({ type: t, obj, verb: 'create' });
    this.overlay.set(
      this.key(t, obj.metadata.namespace ?? '', obj.metadata.name),
      obj,
    );
    return { obj };
  }

  update(t: ResourceType, input: any, options: { subresource?: string } = {}) {
    const obj = { apiVersion: gv(t), kind: t.kind, ...structuredClone(input) };
    this.writes.push({
      type: t,
      obj,
      verb: 'update',
      subresource: options.subresource,
    });
    this.overlay.set(
      this.key(t, obj.metadata.namespace ?? '', obj.metadata.name),
      obj,
    );
    return { obj };
  }
}

export interface SimulatedControllers {
  /** Writes sent, and those the server refused with something other than a lost race. */
  counts: {
    passes: number;
    writes: number;
    conflicts: number;
    failures: number;
  };
  /** The last refusals (method, path, status, message), for a test's failure message. */
  failures: string[];
  stop(): void;
}

/**
 * Starts the simulated controllers of the given API groups against the cluster that `client`
 * reaches (as an admin; `stop()` closes it), with `mirror` watching at least Services, ReplicaSets and those groups'
 * kinds. `timeScale` is kube-sim's: 0.05 makes Argo's timed pauses twenty times shorter.
 */
export function startSimulatedControllers(options: {
  client: RestClient;
  mirror: ClusterMirror;
  gatewayApi: boolean;
  argoRollouts: boolean;
  timeScale: number;
  log?: (line: string) => void;
}): SimulatedControllers {
  const { client, mirror } = options;
  const log = options.log ?? (() => {});
  const counts = { passes: 0, writes: 0, conflicts: 0, failures: 0 };
  const failures: string[] = [];
  let stopped = false;
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let due: NodeJS.Timeout | undefined;

  const send = async (writes: Write[]) => {
    const fresher = new Map<string, string>();
    for (const w of writes) {
      const ns = w.obj.metadata.namespace ?? '';
      const id = `${gv(w.type)}/${w.type.kind}/${ns}/${w.obj.metadata.name}`;
      const body = structuredClone(w.obj);
      if (fresher.has(id)) body.metadata.resourceVersion = fresher.get(id);
      const path =
        w.verb === 'create'
          ? collectionPath(w.type, ns)
          : `${collectionPath(w.type, ns)}/${w.obj.metadata.name}${
              w.subresource === 'status' ? '/status' : ''
            }`;
      const method = w.verb === 'create' ? 'POST' : 'PUT';
      counts.writes++;
      const res = await client.request(method, path, body);
      if (res.status === 200 || res.status === 201) {
        fresher.set(id, res.body.metadata.resourceVersion);
        mirror.observe({
          ...res.body,
          apiVersion: gv(w.type),
          kind: w.type.kind,
        });
      } else if (res.status === 409) {
        counts.conflicts++;
      } else {
        counts.failures++;
        const line = `${method} ${path}: ${res.status} ${
          res.body?.message ?? ''
        }`;
        failures.push(line);
        if (failures.length > 20) failures.shift();
        log(`kube-real simulated controllers: ${line}`);
      }
    }
  };

  const pass = async () => {
    counts.passes++;
    const store = new MirrorStore(mirror);
    const ctx: ControllerContext = {
      store: store as any,
      timeScale: options.timeScale,
      log,
      // Events are left out: the engine's views do not read what these controllers would record.
      events: { record: () => {} } as any,
      duration: s => s * 1000 * options.timeScale,
      pods: new PodRuntime(),
    };
    let next: number | undefined;
    if (options.gatewayApi) {
      for (const { obj } of store.all(TYPES.gateways))
        reconcileGateway(ctx, obj.metadata.namespace, obj.metadata.name);
      for (const { obj } of store.all(TYPES.httproutes))
        reconcileHttpRoute(ctx, obj.metadata.namespace, obj.metadata.name);
    }
    if (options.argoRollouts) {
      const argo = new ArgoRolloutController(ctx);
      const replicaSets = store.all(TYPES.replicasets).map(r => r.obj);
      for (const { obj: ro } of store.all(TYPES.rollouts)) {
        const owned = replicaSets.filter(rs =>
          (rs.metadata.ownerReferences ?? []).some(
            (o: any) => o.controller && o.uid === ro.metadata.uid,
          ),
        );
        const at = argo.reconcile(ro, owned);
        if (at !== undefined && (next === undefined || at < next)) next = at;
      }
    }
    await send(store.writes);
    return next;
  };

  const run = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const next = await pass();
        if (next !== undefined && !stopped) {
          clearTimeout(due);
          due = setTimeout(schedule, Math.max(0, next - Date.now()));
          due.unref();
        }
      } while (again && !stopped);
    } catch (e) {
      log(`kube-real simulated controllers: ${(e as Error).stack ?? e}`);
    } finally {
      running = false;
    }
  };

  /** Debounced: a burst of watch events is one pass. */
  function schedule() {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, 20);
    timer.unref();
  }

  const watched = new Set([
    'v1/Service',
    'apps/v1/ReplicaSet',
    ...(options.gatewayApi
      ? [
          'gateway.networking.k8s.io/v1/Gateway',
          'gateway.networking.k8s.io/v1/HTTPRoute',
        ]
      : []),
    ...(options.argoRollouts ? ['argoproj.io/v1alpha1/Rollout'] : []),
  ]);
  const unsubscribe = mirror.onChange(obj => {
    if (watched.has(`${obj.apiVersion}/${obj.kind}`)) schedule();
  });
  // A safety net as a controller's resync: a pass every second whatever the watches said.
  const resync = setInterval(schedule, 1000);
  resync.unref();
  schedule();

  return {
    counts,
    failures,
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(resync);
      clearTimeout(timer);
      clearTimeout(due);
      client.close();
    },
  };
}
