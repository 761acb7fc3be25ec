import Box from '@material-ui/core/Box';
import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusRunning,
  StatusWarning,
} from '@backstage/core-components';
import type {
  AnalysisPhase,
  RolloutHistoryEvent,
  RolloutPhase,
} from '@rust-delivery-portal/plugin-rollouts-common';

type StatusIcon = typeof StatusOK;

/**
 * A status icon followed by its word. Backstage's Status components hide their whole content from
 * assistive technology, so the word is rendered outside them to stay readable.
 */
function IconAndText(props: { icon: StatusIcon; text: string }) {
  const Icon = props.icon;
  return (
    <Box component="span" display="inline-flex" alignItems="center">
      <Icon />
      <span>{props.text}</span>
    </Box>
  );
}

const phaseIcons: Record<RolloutPhase, StatusIcon> = {
  Healthy: StatusOK,
  Progressing: StatusRunning,
  Paused: StatusPending,
  Degraded: StatusError,
  Aborted: StatusAborted,
};

/** The phase as an icon and its name, so colour is never the only signal. */
export function RolloutPhaseStatus(props: { phase: RolloutPhase }) {
  return (
    <IconAndText
      icon={phaseIcons[props.phase] ?? StatusPending}
      text={props.phase}
    />
  );
}

const outcomeIcons: Record<RolloutHistoryEvent['outcome'], StatusIcon> = {
  succeeded: StatusOK,
  denied: StatusWarning,
  failed: StatusError,
};

/** How a history event went. */
export function OutcomeStatus(props: {
  outcome: RolloutHistoryEvent['outcome'];
}) {
  return (
    <IconAndText
      icon={outcomeIcons[props.outcome] ?? StatusError}
      text={props.outcome}
    />
  );
}

const analysisIcons: Record<AnalysisPhase, StatusIcon> = {
  Pending: StatusPending,
  Running: StatusRunning,
  Successful: StatusOK,
  Failed: StatusError,
  Inconclusive: StatusWarning,
  Error: StatusWarning,
};

/** The verdict of an analysis, a metric or a measurement, as an icon and its word. */
export function AnalysisPhaseStatus(props: { phase: AnalysisPhase }) {
  return (
    <IconAndText
      icon={analysisIcons[props.phase] ?? StatusPending}
      text={props.phase}
    />
  );
}
