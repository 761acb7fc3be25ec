import { ObjectStore } from '../store/ObjectStore';
import { EventRecorder } from './EventRecorder';
import { ControllerContext, PodRuntime } from './types';
import { reconcilePods } from './kubelet';
import { reconcileReplicaSets } from './replicasets';
import { DeploymentController } from './deployments';
import { reconcileEndpoints } from './endpoints';
import { collectGarbage } from './garbageCollector';

/**
 * Runs the controllers, in the order data flows (garbage collection, kubelet, ReplicaSets,
 * Deployments, Endpoints), after every change and on a steady tick for time-driven progress.
 */
export class ControllerManager {
  readonly ctx: ControllerContext;
  private readonly deployments: DeploymentController;
  private timer?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
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
  }

  start() {
    const tickMs = Math.max(
      20,
      Math.min(500, Math.round(250 * this.ctx.timeScale)),
    );
    this.timer = setInterval(() => this.runOnce(), tickMs);
    this.timer.unref?.();
    // Controllers react to every change except the Events they write themselves.
    this.unsubscribe = this.ctx.store.subscribeAll(e => {
      if (e.key !== 'events') this.kick();
    });
    this.runOnce();
  }

  /** Schedules a pass soon; many changes in a row cost one pass. */
  kick() {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.runOnce();
    }, 10);
  }

  runOnce() {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      collectGarbage(this.ctx);
      reconcilePods(this.ctx);
      reconcileReplicaSets(this.ctx);
      this.deployments.reconcile();
      reconcileEndpoints(this.ctx);
    } catch (e) {
      this.ctx.log(`kube-sim: controller error: ${(e as Error).stack ?? e}`);
    } finally {
      this.running = false;
    }
  }

  stop() {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
  }
}
