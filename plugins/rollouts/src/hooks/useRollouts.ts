import { useEffect } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';
import {
  Entity,
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useSignal } from '@backstage/plugin-signals-react';
import type {
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef } from '../api';

/** Poll this often when nothing is moving; signals make most refreshes immediate anyway. */
export const IDLE_POLL_MS = 10_000;
/** Poll faster while a rollout is progressing, so step changes show up without a signal. */
export const PROGRESSING_POLL_MS = 3_000;

/**
 * The signal channel the backend publishes on whenever one of the entity's rollouts changes.
 * @public
 */
export function rolloutsSignalChannel(entity: Entity): string {
  return `rollouts:${stringifyEntityRef(entity)}`;
}

/**
 * Re-runs `retry` whenever a signal arrives on the entity's channel, and on an interval as the
 * fallback for apps without signals (or a dropped connection).
 */
export function useLiveRefresh(
  entity: Entity,
  retry: () => void,
  fast: boolean,
) {
  const { lastSignal } = useSignal(rolloutsSignalChannel(entity));
  useEffect(() => {
    if (lastSignal) {
      retry();
    }
    // Only a new signal should trigger a refetch, not a new retry function.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastSignal]);
  // A hidden tab does not need fresh data; the next visible tick catches up.
  useInterval(
    () => {
      if (
        typeof document === 'undefined' ||
        document.visibilityState !== 'hidden'
      ) {
        retry();
      }
    },
    fast ? PROGRESSING_POLL_MS : IDLE_POLL_MS,
  );
}

/** @public */
export interface UseRolloutsResult {
  /** Undefined until the first load completes (and after a failed load). */
  rollouts?: RolloutView[];
  loading: boolean;
  error?: Error;
  retry: () => void;
}

/**
 * The entity's rollouts, one per cluster and workload, kept live by signals and polling.
 * @public
 */
export function useRollouts(entity: Entity): UseRolloutsResult {
  const api = useApi(rolloutsApiRef);
  const ref = stringifyEntityRef(entity);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getRollouts(getCompoundEntityRef(entity)),
    [api, ref],
  );
  const progressing = Boolean(
    value?.some(rollout => rollout.phase === 'Progressing'),
  );
  useLiveRefresh(entity, retry, progressing);
  return { rollouts: value, loading, error, retry };
}

/** @public */
export interface UseRolloutHistoryResult {
  history?: RolloutHistoryEvent[];
  loading: boolean;
  error?: Error;
  retry: () => void;
}

/**
 * The entity's rollout history, refreshed on the same signals as {@link useRollouts}.
 * @public
 */
export function useRolloutHistory(entity: Entity): UseRolloutHistoryResult {
  const api = useApi(rolloutsApiRef);
  const ref = stringifyEntityRef(entity);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getHistory(getCompoundEntityRef(entity)),
    [api, ref],
  );
  useLiveRefresh(entity, retry, false);
  return { history: value, loading, error, retry };
}
