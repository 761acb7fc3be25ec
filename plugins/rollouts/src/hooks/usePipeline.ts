import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import {
  Entity,
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import type { PipelineView } from '@rust-delivery-portal/plugin-rollouts-common';
import { rolloutsApiRef } from '../api';
import { useLiveRefresh } from './useRollouts';

/** @public */
export interface UsePipelineResult {
  pipeline?: PipelineView;
  loading: boolean;
  error?: Error;
  retry: () => void;
}

/**
 * The entity's release pipeline, refreshed on the same signals and polls as its rollouts; a soak
 * counts down on the server's clock, so the poll keeps "waits for" current.
 * @public
 */
export function usePipeline(entity: Entity): UsePipelineResult {
  const api = useApi(rolloutsApiRef);
  const ref = stringifyEntityRef(entity);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.getPipeline(getCompoundEntityRef(entity)),
    [api, ref],
  );
  const moving = Boolean(
    value?.stages.some(
      s =>
        s.release?.phase === 'Progressing' ||
        s.waitingFor.some(w => w.kind === 'soak'),
    ),
  );
  useLiveRefresh(entity, retry, moving);
  return { pipeline: value, loading, error, retry };
}
