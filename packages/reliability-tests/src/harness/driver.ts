import type {
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { Caller, Portal } from './portal';

/** What the driver needs of a backend: in-process (`startPortal`) or a child process (`spawnPortal`). */
export type RolloutsApi = Pick<Portal, 'get' | 'post'>;

/** What a client saw while driving rollouts: every HTTP status it got, by route. */
export class ClientTally {
  readonly byStatus: Record<string, number> = {};
  requests = 0;
  note(route: string, status: number) {
    this.requests++;
    const key = `${route} ${status}`;
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }
  count(predicate: (status: number) => boolean) {
    return Object.entries(this.byStatus)
      .filter(([k]) => predicate(Number(k.split(' ').pop())))
      .reduce((n, [, v]) => n + v, 0);
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export interface DriveOptions {
  portal: RolloutsApi;
  entityPath: string;
  workload: string;
  image: string;
  caller: Caller;
  tally: ClientTally;
  timeoutMs: number;
  /** Called once the rollout is in flight (used to restart the backend mid-rollout). */
  onProgress?: (view: RolloutView) => Promise<RolloutsApi | void>;
}

/** Reads one workload's view, retrying what a real client retries (5xx). */
export async function readView(
  portal: RolloutsApi,
  entityPath: string,
  workload: string,
  caller: Caller,
  tally: ClientTally,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await portal.get(`${entityPath}/rollouts`, caller);
    tally.note('GET rollouts', res.status);
    if (res.status === 200) {
      const view = (res.body.items as RolloutView[]).find(
        v => v.workload === workload,
      );
      if (view) return view;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `No view of ${workload}: ${res.status} ${JSON.stringify(res.body).slice(
          0,
          300,
        )}`,
      );
    }
    await sleep(200);
  }
}

/**
 * Drives a rollout the way the portal's UI and the CI job do: start (retrying 5xx; a 409 after
 * an unanswered start means it had started), then promote each approval pause with the step and
 * revision the client saw, re-reading after every 409 or 5xx, until Healthy on the new image.
 */
export async function driveToHealthy(
  options: DriveOptions,
): Promise<{ view: RolloutView; portal: RolloutsApi }> {
  let { portal } = options;
  const { entityPath, workload, image, caller, tally } = options;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const res = await portal.post(`${entityPath}/rollouts`, caller, {
      cluster: 'sim',
      workload,
      image,
    });
    tally.note('POST rollouts', res.status);
    if (res.status === 201) break;
    if (res.status === 409) {
      const view = await readView(portal, entityPath, workload, caller, tally);
      if (view.targetImage === image || view.stableImage === image) break;
    } else if (res.status < 500) {
      throw new Error(
        `start refused: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    if (Date.now() > deadline) throw new Error('start did not succeed in time');
    await sleep(200);
  }
  let progressed = false;
  for (;;) {
    if (Date.now() > deadline) {
      const view = await readView(portal, entityPath, workload, caller, tally);
      throw new Error(
        `rollout of ${workload} not Healthy in ${
          options.timeoutMs
        } ms: ${JSON.stringify(view)}`,
      );
    }
    const view = await readView(portal, entityPath, workload, caller, tally);
    if (
      view.phase === 'Healthy' &&
      view.stableImage === image &&
      !view.targetImage
    ) {
      return { view, portal };
    }
    if (view.phase === 'Aborted' || view.phase === 'Degraded') {
      throw new Error(
        `rollout of ${workload} ended ${view.phase}: ${view.message}`,
      );
    }
    if (!progressed && options.onProgress && view.targetImage === image) {
      progressed = true;
      portal = (await options.onProgress(view)) ?? portal;
      continue;
    }
    if (
      view.phase === 'Paused' &&
      /promotion/i.test(view.pause?.reason ?? '') &&
      view.allowedActions.includes('promote')
    ) {
      const r = await portal.post(`${entityPath}/actions/promote`, caller, {
        cluster: 'sim',
        workload,
        stepIndex: view.step.index,
        revision: view.revision,
        reason: 'reliability suite',
      });
      tally.note('POST promote', r.status);
      continue;
    }
    await sleep(250);
  }
}

/** The whole history of an entity (retrying 5xx). */
export async function readHistory(
  portal: RolloutsApi,
  entityPath: string,
  caller: Caller,
  tally: ClientTally,
): Promise<RolloutHistoryEvent[]> {
  for (let i = 0; ; i++) {
    const res = await portal.get(`${entityPath}/history?limit=1000`, caller);
    tally.note('GET history', res.status);
    if (res.status === 200) return res.body.items;
    if (i > 20)
      throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(200);
  }
}

/** Rows that appear more than once for the same (workload, action, step, revision, outcome). */
export function duplicateRows(items: RolloutHistoryEvent[], workload: string) {
  const seen = new Map<string, number>();
  for (const e of items.filter(
    i => i.workload === workload && i.outcome === 'succeeded',
  )) {
    const key = `${e.action}|step=${e.stepIndex}|rev=${e.revision}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
}
