import {
  canonicalJson,
  KubeletEvent,
  PodClock,
  podLifecycle,
} from '@rust-delivery-portal/kube-sim';
import { randomBytes } from 'node:crypto';
import { ApiClient, isStatus } from './ApiClient';
import { allocateLoopbackPodIp } from './loopbackAddresses';

/** How long the simulated kubelet takes to stop a deleted pod's containers (simulated seconds). */
const TERMINATE_FOR = 1;
const RETRY_MS = 250;

interface DrivenPod {
  pod: any;
  clock: PodClock;
  timer?: NodeJS.Timeout;
  /** The last status this agent wrote, canonical; a server that drops a field does not cause a rewrite. */
  lastWritten?: string;
  busy: boolean;
  again: boolean;
  terminating: boolean;
}

function isNewer(a: any, b: any): boolean {
  return (
    Number(a.metadata.resourceVersion) > Number(b.metadata.resourceVersion)
  );
}

/**
 * The kubelet's part for the pods the scheduler binds to this agent's nodes: watches them and
 * writes each one's status through the API server as kube-sim's pod lifecycle says, finishes
 * graceful deletions (a real API server keeps a deleted pod until its kubelet deletes it with
 * grace period 0), and records the kubelet's events.
 */
export class PodDriver {
  private readonly pods = new Map<string, DrivenPod>();
  private stopped = false;
  private abortWatch?: AbortController;
  private loop?: Promise<void>;

  constructor(
    private readonly api: ApiClient,
    /** Node name -> node IP. */
    private readonly nodes: Map<string, string>,
    private readonly duration: (seconds: number) => number,
    private readonly log: (line: string) => void,
  ) {}

  start() {
    this.loop = this.run();
  }

  async stop() {
    this.stopped = true;
    this.abortWatch?.abort();
    for (const p of this.pods.values()) clearTimeout(p.timer);
    await this.loop;
  }

  /** List, then watch from the list's resourceVersion; a watch that ends (410 Gone included) re-lists. */
  private async run() {
    const selector = { fieldSelector: 'spec.nodeName!=' };
    while (!this.stopped) {
      try {
        const list = await this.api.request(
          'GET',
          `/api/v1/pods?fieldSelector=${encodeURIComponent(
            selector.fieldSelector,
          )}`,
        );
        const listed = new Set<string>();
        for (const pod of list.items) {
          listed.add(pod.metadata.uid);
          this.observe({ apiVersion: 'v1', kind: 'Pod', ...pod });
        }
        for (const uid of this.pods.keys())
          if (!listed.has(uid)) this.forget(uid);
        if (this.stopped) return;
        await new Promise<void>((resolve, reject) => {
          this.api.watcher
            .watch(
              '/api/v1/pods',
              {
                ...selector,
                resourceVersion: list.metadata.resourceVersion,
                allowWatchBookmarks: true,
              },
              (type, obj) => {
                if (type === 'ADDED' || type === 'MODIFIED') this.observe(obj);
                else if (type === 'DELETED') this.forget(obj.metadata.uid);
                else if (type === 'ERROR') this.abortWatch?.abort();
              },
              () => resolve(),
            )
            .then(abort => {
              this.abortWatch = abort;
              if (this.stopped) abort.abort();
            }, reject);
        });
      } catch (e) {
        if (this.stopped) return;
        this.log(
          `kube-real agent: pod watch: ${(e as Error).message}; listing again`,
        );
        await new Promise(r => setTimeout(r, 1000));
      }
    }
  }

  private observe(pod: any) {
    if (!this.nodes.has(pod.spec?.nodeName)) return;
    const uid = pod.metadata.uid;
    let driven = this.pods.get(uid);
    if (!driven) {
      // A pod this agent drove before it restarted keeps its timeline: startTime is its binding.
      const startTime = pod.status?.startTime;
      driven = {
        pod,
        clock: { boundAt: startTime ? Date.parse(startTime) : Date.now() },
        busy: false,
        again: false,
        terminating: false,
      };
      this.pods.set(uid, driven);
    } else if (isNewer(pod, driven.pod)) {
      driven.pod = pod;
    } else {
      return;
    }
    const phase = pod.status?.phase;
    if (
      (phase === 'Succeeded' || phase === 'Failed') &&
      !pod.metadata.deletionTimestamp
    )
      return;
    this.reconcile(driven);
  }

  private forget(uid: string) {
    const driven = this.pods.get(uid);
    if (driven) clearTimeout(driven.timer);
    this.pods.delete(uid);
  }

  private reconcile(driven: DrivenPod) {
    if (driven.busy) {
      driven.again = true;
      return;
    }
    driven.busy = true;
    (async () => {
      do {
        driven.again = false;
        await this.step(driven);
      } while (driven.again && !this.stopped);
    })()
      .catch(e =>
        this.log(
          `kube-real agent: pod ${driven.pod.metadata.name}: ${e.message}`,
        ),
      )
      .finally(() => {
        driven.busy = false;
      });
  }

  private schedule(driven: DrivenPod, at: number | undefined) {
    clearTimeout(driven.timer);
    if (at === undefined || this.stopped) return;
    driven.timer = setTimeout(
      () => this.reconcile(driven),
      Math.max(0, at - Date.now()) + 5,
    );
    driven.timer.unref();
  }

  private async step(driven: DrivenPod) {
    const { pod } = driven;
    const { name, namespace, uid } = pod.metadata;
    if (pod.metadata.deletionTimestamp) {
      await this.terminate(driven);
      return;
    }
    const step = podLifecycle(pod, driven.clock, {
      duration: this.duration,
      hostIP: this.nodes.get(pod.spec.nodeName)!,
      podIP: allocateLoopbackPodIp,
    });
    this.schedule(driven, step.nextAt);
    if (!step.changed) return;
    const key = canonicalJson(step.status);
    if (key === driven.lastWritten) return;
    try {
      const updated = await this.api.request(
        'PUT',
        `/api/v1/namespaces/${namespace}/pods/${name}/status`,
        { ...pod, status: step.status },
      );
      driven.lastWritten = key;
      if (this.pods.get(uid) === driven && isNewer(updated, driven.pod)) {
        driven.pod = updated;
        // The answer may carry a deletion the watch's older event then cannot bring again.
        if (updated.metadata.deletionTimestamp) driven.again = true;
      }
      for (const e of step.events) void this.recordEvent(updated, e);
    } catch (e) {
      if (isStatus(e, 404)) return;
      // 409: the watch brings the newer pod; look again soon in case it already did.
      if (!isStatus(e, 409))
        this.log(
          `kube-real agent: status of ${namespace}/${name}: ${
            (e as Error).message
          }`,
        );
      this.schedule(driven, Date.now() + RETRY_MS);
    }
  }

  private async terminate(driven: DrivenPod) {
    if (driven.terminating) return;
    driven.terminating = true;
    const { pod } = driven;
    const { name, namespace, uid } = pod.metadata;
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 30);
    await new Promise(r =>
      setTimeout(r, this.duration(Math.min(grace, TERMINATE_FOR))),
    );
    try {
      await this.api.request(
        'DELETE',
        `/api/v1/namespaces/${namespace}/pods/${name}`,
        {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          gracePeriodSeconds: 0,
          preconditions: { uid },
        },
      );
    } catch (e) {
      if (isStatus(e, 404) || isStatus(e, 409)) return;
      driven.terminating = false;
      this.log(
        `kube-real agent: deleting ${namespace}/${name}: ${
          (e as Error).message
        }`,
      );
      this.schedule(driven, Date.now() + RETRY_MS * 4);
    }
  }

  private async recordEvent(pod: any, event: KubeletEvent) {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const { name, namespace, uid, resourceVersion } = pod.metadata;
    try {
      await this.api.request('POST', `/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${name}.${randomBytes(8).toString('hex')}`,
          namespace,
        },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name,
          namespace,
          uid,
          resourceVersion,
        },
        reason: event.reason,
        message: event.message,
        type: event.type,
        source: { component: 'kubelet', host: pod.spec.nodeName },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch {
      // Events are best effort, as a kubelet's are.
    }
  }
}
