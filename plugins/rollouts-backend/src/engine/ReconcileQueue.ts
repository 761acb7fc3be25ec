/**
 * Runs a reconcile of one workload soon after its objects changed, rather than at the next
 * scheduled pass: the health gate then reacts to a pod turning unready within one watch event
 * and one write, and a canary step advances as soon as its pods are ready.
 *
 * Changes come in bursts (a rollout step touches a Deployment, a ReplicaSet and several pods),
 * so keys are collected for a short debounce and each is reconciled once. One key never runs
 * twice at the same time in this process; a change that arrives while it runs queues one more
 * run after it. The scheduled pass stays, for time-based steps and as a safety net.
 */
export class ReconcileQueue {
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  private readonly rerun = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly idle = new Set<() => void>();
  /** Delayed reconciles asked for by time-based steps, one timer per key (the earliest wins). */
  private readonly later = new Map<
    string,
    { at: number; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly reconcile: (key: string) => Promise<void>,
    private readonly debounceMs = 25,
  ) {}

  /** Asks for a reconcile of `key` (coalesced with others that arrive within the debounce). */
  add(key: string) {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.rerun.add(key);
      return;
    }
    this.dirty.add(key);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.debounceMs);
      this.timer.unref?.();
    }
  }

  /** Asks for a reconcile of `key` in `ms` (kept only if sooner than one already asked for). */
  addAfter(key: string, ms: number) {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, ms);
    const existing = this.later.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.later.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    timer.unref?.();
    this.later.set(key, { at, timer });
  }

  private flush() {
    this.timer = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) this.run(key);
  }

  private run(key: string) {
    this.running.add(key);
    this.reconcile(key)
      .catch(() => {
        // The reconcile function reports its own failures; the scheduled pass retries.
      })
      .finally(() => {
        this.running.delete(key);
        if (this.rerun.delete(key)) this.add(key);
        this.notifyIfIdle();
      });
  }

  private notifyIfIdle() {
    if (this.running.size || this.dirty.size || this.timer) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  /** Resolves when nothing is queued or running (for shutdown and tests). */
  async settled(): Promise<void> {
    if (!this.running.size && !this.dirty.size && !this.timer) return;
    await new Promise<void>(resolve => this.idle.add(resolve));
  }

  /** Takes no new work and waits for the reconciles already running. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
    this.rerun.clear();
    for (const { timer } of this.later.values()) clearTimeout(timer);
    this.later.clear();
    await this.settled();
  }
}
