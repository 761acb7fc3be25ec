import { ObjectStore } from '../store/ObjectStore';
import { findResource, groupVersion } from '../api/resources';
import { randomSuffix } from '../store/ObjectStore';

const EVENTS = findResource('v1', 'events')!;
/** Events kept per namespace; older ones are removed, as the event TTL does on a real cluster. */
const MAX_EVENTS_PER_NAMESPACE = 300;

/**
 * Writes core/v1 Events the way controllers and the kubelet do, counting repeats.
 * @public
 */
export class EventRecorder {
  private readonly seen = new Map<string, string>();

  constructor(private readonly store: ObjectStore) {}

  record(
    involved: any,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ) {
    const meta = involved.metadata;
    const namespace = meta.namespace || 'default';
    if (!this.store.get(findResource('v1', 'namespaces')!, '', namespace))
      return;
    const key = `${meta.uid}|${reason}|${message}`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const existingName = this.seen.get(key);
    const existing = existingName
      ? this.store.get(EVENTS, namespace, existingName)
      : undefined;
    try {
      if (existing) {
        const ev = structuredClone(existing.obj);
        ev.count = (ev.count ?? 1) + 1;
        ev.lastTimestamp = now;
        this.store.update(EVENTS, ev);
        return;
      }
      const name = `${meta.name}.${randomSuffix(8)}${Date.now()
        .toString(16)
        .slice(-8)}`;
      this.store.create(EVENTS, {
        metadata: { name, namespace },
        involvedObject: {
          kind: involved.kind,
          namespace,
          name: meta.name,
          uid: meta.uid,
          apiVersion: involved.apiVersion ?? groupVersion(EVENTS),
          resourceVersion: meta.resourceVersion,
        },
        reason,
        message,
        source: {
          component,
          ...(component === 'kubelet' ? { host: 'kube-sim-node' } : {}),
        },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'kube-sim-node' : '',
      });
      this.seen.set(key, name);
      const all = this.store.all(EVENTS, namespace);
      if (all.length > MAX_EVENTS_PER_NAMESPACE) {
        const oldest = [...all]
          .sort((a, b) => a.rv - b.rv)
          .slice(0, all.length - MAX_EVENTS_PER_NAMESPACE);
        for (const o of oldest)
          this.store.delete(EVENTS, namespace, o.obj.metadata.name);
      }
    } catch {
      // Events are best effort, as on a real cluster.
    }
  }
}
