import { ObjectStore } from '../store/ObjectStore';
import { findResource, ResourceType } from '../api/resources';
import { EventRecorder } from './EventRecorder';

/**
 * What every controller gets: the store, the clock scale, a logger and the event recorder.
 * @public
 */
export interface ControllerContext {
  store: ObjectStore;
  /** 1 = real seconds; 0.05 = twenty times faster. */
  timeScale: number;
  log: (line: string) => void;
  events: EventRecorder;
  /** Milliseconds a simulated duration of `seconds` lasts. */
  duration(seconds: number): number;
  /** Pod runtime bookkeeping that does not live in the API objects. */
  pods: PodRuntime;
}

/** @public */
export interface PodTimeline {
  createdAt: number;
  readyAt?: number;
  /** Its containers' readiness probes fail (see `control.setReadinessFailing`). */
  readinessFailing?: boolean;
  /** When its containers last stopped being ready after they had been. */
  unreadyAt?: number;
}

/** @public */
export class PodRuntime {
  private readonly timelines = new Map<string, PodTimeline>();

  timeline(uid: string): PodTimeline {
    let t = this.timelines.get(uid);
    if (!t) {
      t = { createdAt: Date.now() };
      this.timelines.set(uid, t);
    }
    return t;
  }

  forget(uid: string) {
    this.timelines.delete(uid);
  }
}

/** @public */
export const TYPES = {
  namespaces: findResource('v1', 'namespaces')!,
  nodes: findResource('v1', 'nodes')!,
  pods: findResource('v1', 'pods')!,
  services: findResource('v1', 'services')!,
  endpoints: findResource('v1', 'endpoints')!,
  events: findResource('v1', 'events')!,
  deployments: findResource('apps/v1', 'deployments')!,
  replicasets: findResource('apps/v1', 'replicasets')!,
  rollouts: findResource('argoproj.io/v1alpha1', 'rollouts')!,
  gateways: findResource('gateway.networking.k8s.io/v1', 'gateways')!,
  httproutes: findResource('gateway.networking.k8s.io/v1', 'httproutes')!,
} satisfies Record<string, ResourceType>;

export function nowIso(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function controllerOf(obj: any): any | undefined {
  return (obj?.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
}

/** Canonical JSON (sorted keys), to compare templates whatever order their fields came in. */
export function canonical(v: any): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter(k => v[k] !== undefined)
      .sort()
      .map(k => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
