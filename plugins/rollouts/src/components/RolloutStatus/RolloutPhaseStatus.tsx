import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
} from '@backstage/core-components';
import type { RolloutPhase } from '@internal/plugin-rollouts-common';

const icons: Record<RolloutPhase, typeof StatusOK> = {
  Healthy: StatusOK,
  Progressing: StatusRunning,
  Paused: StatusPending,
  Degraded: StatusError,
  Aborted: StatusAborted,
};

/** The phase as an icon and its name, so colour is never the only signal. */
export function RolloutPhaseStatus(props: { phase: RolloutPhase }) {
  const Icon = icons[props.phase] ?? StatusPending;
  return <Icon>{props.phase}</Icon>;
}
