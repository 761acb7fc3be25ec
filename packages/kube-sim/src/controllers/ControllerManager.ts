import { performance } from 'node:perf_hooks';
import { ChangeEvent, ObjectStore } from '../store/ObjectStore';
import { RESOURCE_TYPES, ResourceType, storageKey } from '../api/resources';
import { EventRecorder } from './EventRecorder';
import { ControllerContext, PodRuntime, TYPES, controllerOf } from './types';
import { reconcilePod } from './kubelet';
import { reconcileReplicaSet } from './replicasets';
import { DeploymentController } from './deployments';
import { ArgoRolloutController } from './argoRollouts';
import { reconcileEndpoints } from './endpoints';
import { collectGarbage, finishNamespace } from './garbageCollector';
import { reconcileGateway, reconcileHttpRoute } from './gateways';

/**
 * Runs the controllers the way kube-controller-manager does: informers turn every change into the
 * keys it affects, work queues hold those keys, and each controller reconciles only its dirty keys.
 *
 * - a pod -> the pod (kubelet), its controlling ReplicaSet, the Services that select it (Endpoints);
 * - a ReplicaSet -> itself and its controlling Deployment; a Deployment -> itself;
 * - a Service or its Endpoints -> that Service's Endpoints;
 * - a deletion -> the objects that named the deleted one as an owner (garbage collector);
 * - a terminating namespace -> its content.
 *
 * Work that time alone drives (a pod turning ready after its probe delay, a crash-loop restart,
 * `minReadySeconds`, `progressDeadlineSeconds`) is scheduled for the one object it concerns: each
 * reconcile returns when it needs to look again, and a timer wakes the queue then. A full resync
 * (every 30 simulated seconds) re-indexes everything and visits every object, as a safety net.
 *
 * A pass works for at most PASS_BUDGET_MS and then yields to the event loop (setImmediate), so API
 * requests are served between passes however many objects are dirty.
 */

type Queue =
  | 'namespace'
  | 'garbage'
  | 'pod'
  | 'replicaset'
  | 'deployment'
  | 'rollout'
  | 'endpoints'
  | 'gateway'
  | 'httproute';

/** The order data flows in, as in the single pass this replaces. */
const ORDER: Queue[] = [
  'namespace',
  'garbage',
  'pod',
  'replicaset',
  'deployment',
  'rollout',
  'endpoints',
  'gateway',
  'httproute',
];

/** Longest a pass works before yielding to the event loop. */
const PASS_BUDGET_MS = 10;
/** Changes in a row within this many ms cost one pass. */
const KICK_DELAY_MS = 10;
/** Simulated seconds between full resyncs. */
const RESYNC_SECONDS = 30;
/** setTimeout's ceiling; a later due time is looked at by a resync or an earlier wake-up. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const PODS = storageKey(TYPES.pods);
const REPLICASETS = storageKey(TYPES.replicasets);
const DEPLOYMENTS = storageKey(TYPES.deployments);
const ROLLOUTS = storageKey(TYPES.rollouts);
const SERVICES = storageKey(TYPES.services);
const ENDPOINTS = storageKey(TYPES.endpoints);
const NAMESPACES = storageKey(TYPES.namespaces);
const EVENTS = storageKey(TYPES.events);
const GATEWAYS = storageKey(TYPES.gateways);
const HTTPROUTES = storageKey(TYPES.httproutes);

/** One resource type per storage (autoscaling/v1 and v2 share theirs). */
const TYPE_BY_STORAGE = new Map<string, ResourceType>();
for (const t of RESOURCE_TYPES) {
  if (!TYPE_BY_STORAGE.has(storageKey(t)))
    TYPE_BY_STORAGE.set(storageKey(t), t);
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/**
 * namespace -> `key=value` -> names: the pods that carry a label, or the Services whose selector
 * asks for it. Lookups give candidates; callers check the full match.
 */
class PairIndex {
  private readonly byNs = new Map<string, Map<string, Set<string>>>();
  private readonly pairsOf = new Map<string, string[]>();

  private static pairs(labels: Record<string, unknown> | undefined): string[] {
    return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  }

  set(ns: string, name: string, labels: Record<string, unknown> | undefined) {
    const pairs = PairIndex.pairs(labels);
    const key = `${ns}/${name}`;
    const current = this.pairsOf.get(key);
    if (current && current.join('\n') === pairs.join('\n')) return;
    this.remove(ns, name);
    if (!pairs.length) return;
    let m = this.byNs.get(ns);
    if (!m) {
      m = new Map();
      this.byNs.set(ns, m);
    }
    for (const p of pairs) {
      let names = m.get(p);
      if (!names) {
        names = new Set();
        m.set(p, names);
      }
      names.add(name);
    }
    this.pairsOf.set(key, pairs);
  }

  remove(ns: string, name: string) {
    const key = `${ns}/${name}`;
    const pairs = this.pairsOf.get(key);
    if (!pairs) return;
    this.pairsOf.delete(key);
    const m = this.byNs.get(ns)!;
    for (const p of pairs) {
      const names = m.get(p);
      names?.delete(name);
      if (names && !names.size) m.delete(p);
    }
    if (!m.size) this.byNs.delete(ns);
  }

  /** Names indexed with every pair of `labels` (from the smallest set of one pair). */
  withAll(ns: string, labels: Record<string, unknown>): string[] {
    const m = this.byNs.get(ns);
    if (!m) return [];
    let smallest: Set<string> | undefined;
    for (const p of PairIndex.pairs(labels)) {
      const names = m.get(p);
      if (!names) return [];
      if (!smallest || names.size < smallest.size) smallest = names;
    }
    return smallest ? [...smallest] : [];
  }

  /** Names whose every indexed pair is among `labels` (a Service selecting a pod with these labels). */
  within(ns: string, labels: Record<string, unknown> | undefined): string[] {
    const m = this.byNs.get(ns);
    if (!m || !labels) return [];
    const have = new Set(PairIndex.pairs(labels));
    const out = new Set<string>();
    for (const p of have) {
      for (const name of m.get(p) ?? []) {
        if (out.has(name)) continue;
        if (this.pairsOf.get(`${ns}/${name}`)!.every(x => have.has(x)))
          out.add(name);
      }
    }
    return [...out];
  }
}

/** Due times of queue keys: a binary min-heap, lazily cleaned, keeping the earliest time per key. */
class DueQueue {
  private readonly heap: { at: number; id: string }[] = [];
  private readonly earliest = new Map<string, number>();

  schedule(id: string, at: number) {
    const current = this.earliest.get(id);
    if (current !== undefined && current <= at) return;
    this.earliest.set(id, at);
    const h = this.heap;
    h.push({ at, id });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].at <= h[i].at) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  /** Ids due at or before `now`, removed from the queue. */
  takeDue(now: number): string[] {
    const out: string[] = [];
    while (this.heap.length && this.heap[0].at <= now) {
      const { at, id } = this.pop();
      if (this.earliest.get(id) !== at) continue; // superseded by an earlier time
      this.earliest.delete(id);
      out.push(id);
    }
    return out;
  }

  /** The next due time, if any. */
  next(): number | undefined {
    while (
      this.heap.length &&
      this.earliest.get(this.heap[0].id) !== this.heap[0].at
    ) {
      this.pop();
    }
    return this.heap[0]?.at;
  }
}

export class ControllerManager {
  readonly ctx: ControllerContext;
  private readonly deployments: DeploymentController;
  private readonly rollouts: ArgoRolloutController;
  private readonly dirty: Record<Queue, Set<string>> = {
    namespace: new Set(),
    garbage: new Set(),
    pod: new Set(),
    replicaset: new Set(),
    deployment: new Set(),
    rollout: new Set(),
    endpoints: new Set(),
    gateway: new Set(),
    httproute: new Set(),
  };
  private readonly due = new DueQueue();
  /** Owner uid -> `storage|namespace|name` of the objects that name it in their ownerReferences. */
  private readonly dependents = new Map<string, Set<string>>();
  /** `storage|namespace|name` -> the owner uids it is indexed under. */
  private readonly ownersOf = new Map<string, string[]>();
  private readonly podLabels = new PairIndex();
  private readonly serviceSelectors = new PairIndex();
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private immediate?: NodeJS.Immediate;
  private resyncTimer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private unsubscribe?: () => void;

  constructor(
    store: ObjectStore,
    timeScale: number,
    log: (line: string) => void,
  ) {
    this.ctx = {
      store,
      timeScale,
      log,
      events: new EventRecorder(store),
      duration: seconds => seconds * 1000 * timeScale,
      pods: new PodRuntime(),
    };
    this.deployments = new DeploymentController(this.ctx);
    this.rollouts = new ArgoRolloutController(this.ctx);
  }

  /** Milliseconds before a failed reconcile is retried (the old steady tick). */
  private get retryMs(): number {
    return Math.max(20, Math.min(500, Math.round(250 * this.ctx.timeScale)));
  }

  start() {
    // Controllers react to every change except the Events they write themselves.
    this.unsubscribe = this.ctx.store.subscribeAll(e => {
      if (e.key !== EVENTS) this.observe(e);
    });
    this.resyncNow();
    const resyncMs = Math.max(
      1000,
      Math.round(RESYNC_SECONDS * 1000 * this.ctx.timeScale),
    );
    this.resyncTimer = setInterval(() => this.resyncInSteps(), resyncMs);
    this.resyncTimer.unref?.();
    // A first pass over everything before the server answers, as a freshly started cluster has
    // had time to create the ReplicaSets and Endpoints of what it was seeded with.
    this.pass(Infinity);
  }

  /** Schedules a pass soon (after a write through the API); the changes themselves are already queued. */
  kick() {
    this.wake(KICK_DELAY_MS);
  }

  /**
   * Makes the kubelet look at one pod at once (its readiness probe's verdict changed), the way a
   * change through the API makes the controllers look at what it touched.
   */
  touchPod(namespace: string, name: string) {
    this.mark('pod', `${namespace}/${name}`);
    this.wake(KICK_DELAY_MS);
  }

  stop() {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  private mark(queue: Queue, key: string) {
    this.dirty[queue].add(key);
  }

  /** The informer: turns one change into the keys it makes dirty. */
  private observe(e: ChangeEvent) {
    const obj = e.object.obj;
    const prev = e.previous?.obj;
    const ns = e.namespace;
    const name = obj.metadata.name;
    const key = `${ns}/${name}`;
    const deleted = e.type === 'DELETED';
    const objectKey = `${e.key}|${ns}|${name}`;
    if (deleted) {
      this.indexOwners(objectKey, []);
      const uid = obj.metadata.uid;
      for (const dependent of this.dependents.get(uid) ?? [])
        this.mark('garbage', dependent);
      this.dependents.delete(uid);
    } else if (this.indexOwners(objectKey, obj.metadata.ownerReferences)) {
      this.mark('garbage', objectKey);
    }
    switch (e.key) {
      case NAMESPACES:
        if (!deleted && obj.metadata.deletionTimestamp)
          this.mark('namespace', name);
        break;
      case PODS:
        if (deleted) {
          this.podLabels.remove(ns, name);
          this.ctx.pods.forget(obj.metadata.uid);
        } else {
          this.podLabels.set(ns, name, obj.metadata.labels);
          this.mark('pod', key);
        }
        for (const o of [obj, prev]) {
          const owner = o && controllerOf(o);
          if (owner?.kind === 'ReplicaSet')
            this.mark('replicaset', `${ns}/${owner.name}`);
          for (const svc of this.serviceSelectors.within(
            ns,
            o?.metadata.labels,
          ))
            this.mark('endpoints', `${ns}/${svc}`);
        }
        break;
      case REPLICASETS:
        if (!deleted) this.mark('replicaset', key);
        for (const o of [obj, prev]) {
          const owner = o && controllerOf(o);
          if (owner?.kind === 'Deployment')
            this.mark('deployment', `${ns}/${owner.name}`);
          if (owner?.kind === 'Rollout')
            this.mark('rollout', `${ns}/${owner.name}`);
        }
        break;
      case ROLLOUTS:
        if (!deleted) this.mark('rollout', key);
        break;
      case DEPLOYMENTS:
        if (deleted) this.deployments.forget(obj.metadata.uid);
        else this.mark('deployment', key);
        break;
      case SERVICES:
        if (deleted) this.serviceSelectors.remove(ns, name);
        else this.serviceSelectors.set(ns, name, obj.spec?.selector);
        this.mark('endpoints', key);
        // Routes of the namespace may name it as a backend (ResolvedRefs).
        if (deleted || !prev) this.markRoutes(ns);
        break;
      case GATEWAYS:
        if (!deleted) this.mark('gateway', key);
        // Routes anywhere may name it as a parent (Accepted).
        this.markRoutes();
        break;
      case HTTPROUTES:
        if (!deleted) this.mark('httproute', key);
        break;
      case ENDPOINTS:
        this.mark('endpoints', key);
        break;
      default:
    }
    this.wake(KICK_DELAY_MS);
  }

  /** Marks the HTTPRoutes (of one namespace, or all) for the simulated gateway to report on. */
  private markRoutes(namespace?: string) {
    for (const r of this.ctx.store.all(TYPES.httproutes, namespace)) {
      this.mark(
        'httproute',
        `${r.obj.metadata.namespace}/${r.obj.metadata.name}`,
      );
    }
  }

  /** Records which owners an object names; true when that changed (and it names any). */
  private indexOwners(objectKey: string, refs: any[] | undefined): boolean {
    const uids: string[] = (refs ?? []).map(r => String(r.uid));
    const current = this.ownersOf.get(objectKey) ?? [];
    if (current.join(',') === uids.join(',')) return false;
    for (const uid of current) {
      const set = this.dependents.get(uid);
      set?.delete(objectKey);
      if (set && !set.size) this.dependents.delete(uid);
    }
    if (!uids.length) {
      this.ownersOf.delete(objectKey);
      return false;
    }
    this.ownersOf.set(objectKey, uids);
    for (const uid of uids) {
      let set = this.dependents.get(uid);
      if (!set) {
        set = new Set();
        this.dependents.set(uid, set);
      }
      set.add(objectKey);
    }
    return true;
  }

  /**
   * Marks every object dirty and re-adds every object to the indexes: the periodic safety net.
   * (Entries the events removed stay removed; a stale entry only adds a candidate that is checked.)
   */
  private resyncSteps(): Array<() => void> {
    const store = this.ctx.store;
    const steps: Array<() => void> = [];
    for (const [storage, type] of TYPE_BY_STORAGE) {
      if (storage === EVENTS) continue;
      steps.push(() => {
        for (const s of store.all(type)) {
          const meta = s.obj.metadata;
          const objectKey = `${storage}|${meta.namespace ?? ''}|${meta.name}`;
          this.indexOwners(objectKey, meta.ownerReferences);
          if (meta.ownerReferences?.length) this.mark('garbage', objectKey);
        }
      });
    }
    steps.push(() => {
      for (const s of store.all(TYPES.namespaces)) {
        if (s.obj.metadata.deletionTimestamp)
          this.mark('namespace', s.obj.metadata.name);
      }
    });
    const each =
      (type: ResourceType, f: (obj: any, key: string) => void) => () => {
        for (const s of store.all(type))
          f(s.obj, `${s.obj.metadata.namespace}/${s.obj.metadata.name}`);
      };
    steps.push(
      each(TYPES.pods, (pod, key) => {
        this.podLabels.set(
          pod.metadata.namespace,
          pod.metadata.name,
          pod.metadata.labels,
        );
        this.mark('pod', key);
      }),
      each(TYPES.replicasets, (_, key) => this.mark('replicaset', key)),
      each(TYPES.deployments, (_, key) => this.mark('deployment', key)),
      each(TYPES.rollouts, (_, key) => this.mark('rollout', key)),
      each(TYPES.services, (svc, key) => {
        this.serviceSelectors.set(
          svc.metadata.namespace,
          svc.metadata.name,
          svc.spec?.selector,
        );
        this.mark('endpoints', key);
      }),
      each(TYPES.endpoints, (_, key) => this.mark('endpoints', key)),
      each(TYPES.gateways, (_, key) => this.mark('gateway', key)),
      each(TYPES.httproutes, (_, key) => this.mark('httproute', key)),
    );
    return steps;
  }

  /** The resync at start, all at once, before the server answers. */
  private resyncNow() {
    for (const step of this.resyncSteps()) step();
  }

  /** The periodic resync: one kind per turn of the event loop, then a pass. */
  private resyncInSteps() {
    const steps = this.resyncSteps();
    const next = () => {
      if (this.stopped) return;
      const step = steps.shift();
      if (!step) {
        this.wake(0);
        return;
      }
      step();
      setImmediate(next);
    };
    next();
  }

  /** Makes sure a pass runs within `delayMs`. */
  private wake(delayMs: number) {
    if (this.stopped || this.immediate) return;
    const at = Date.now() + delayMs;
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pass(PASS_BUDGET_MS);
    }, Math.min(MAX_TIMER_MS, Math.max(0, delayMs)));
    this.wakeTimer.unref?.();
  }

  /** Reconciles dirty keys, queue by queue, for at most `budgetMs`; then yields or sleeps until due. */
  private pass(budgetMs: number) {
    this.immediate = undefined;
    if (this.running || this.stopped) return;
    this.running = true;
    const started = performance.now();
    try {
      for (const id of this.due.takeDue(Date.now())) {
        const i = id.indexOf('|');
        this.mark(id.slice(0, i) as Queue, id.slice(i + 1));
      }
      let spent = false;
      for (const queue of ORDER) {
        const set = this.dirty[queue];
        // Keys made dirty by this pass's own writes wait for the next pass.
        for (const key of set.size ? [...set] : []) {
          spent = performance.now() - started > budgetMs;
          if (spent) break;
          set.delete(key);
          this.reconcile(queue, key);
        }
        if (spent) break;
      }
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (ORDER.some(q => this.dirty[q].size)) {
      this.immediate = setImmediate(() => this.pass(PASS_BUDGET_MS));
      return;
    }
    const next = this.due.next();
    if (next !== undefined) this.wake(next - Date.now() + 1);
  }

  private objects(uid: string, storage: string): any[] {
    const type = TYPE_BY_STORAGE.get(storage)!;
    const out: any[] = [];
    for (const k of this.dependents.get(uid) ?? []) {
      const [s, ns, name] = k.split('|');
      if (s !== storage) continue;
      const found = this.ctx.store.get(type, ns, name);
      if (found) out.push(found.obj);
    }
    return out;
  }

  private reconcile(queue: Queue, key: string) {
    const { ctx } = this;
    try {
      let next: number | undefined;
      if (queue === 'namespace') {
        finishNamespace(ctx, key);
      } else if (queue === 'garbage') {
        const [storage, ns, name] = key.split('|');
        const type = TYPE_BY_STORAGE.get(storage);
        if (type) collectGarbage(ctx, type, ns, name);
      } else {
        const [ns, name] = splitKey(key);
        if (queue === 'pod') {
          const pod = ctx.store.get(TYPES.pods, ns, name)?.obj;
          if (pod) next = reconcilePod(ctx, pod);
        } else if (queue === 'replicaset') {
          const rs = ctx.store.get(TYPES.replicasets, ns, name)?.obj;
          if (rs)
            next = reconcileReplicaSet(
              ctx,
              rs,
              this.objects(rs.metadata.uid, PODS),
            );
        } else if (queue === 'deployment') {
          const d = ctx.store.get(TYPES.deployments, ns, name)?.obj;
          if (d)
            next = this.deployments.reconcile(
              d,
              this.objects(d.metadata.uid, REPLICASETS),
            );
        } else if (queue === 'rollout') {
          const ro = ctx.store.get(TYPES.rollouts, ns, name)?.obj;
          if (ro)
            next = this.rollouts.reconcile(
              ro,
              this.objects(ro.metadata.uid, REPLICASETS),
            );
        } else if (queue === 'gateway') {
          reconcileGateway(ctx, ns, name);
        } else if (queue === 'httproute') {
          reconcileHttpRoute(ctx, ns, name);
        } else {
          reconcileEndpoints(ctx, ns, name, selector =>
            this.podLabels
              .withAll(ns, selector)
              .map(n => ctx.store.get(TYPES.pods, ns, n)?.obj)
              .filter(Boolean),
          );
        }
      }
      if (next !== undefined) this.due.schedule(`${queue}|${key}`, next);
    } catch (e) {
      ctx.log(`kube-sim: ${queue} ${key}: ${(e as Error).stack ?? e}`);
      this.due.schedule(`${queue}|${key}`, Date.now() + this.retryMs);
    }
  }
}
