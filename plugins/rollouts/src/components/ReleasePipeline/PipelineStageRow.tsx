import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import type {
  PipelineStageView,
  PipelineWait,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { RolloutPhaseStatus } from '../RolloutStatus/RolloutPhaseStatus';
import { formatAbsolute, formatRelative } from '../RolloutStatus/format';

const WAIT_LABELS: Record<PipelineWait['kind'], string> = {
  'previous-stage': 'Previous stage',
  soak: 'Soak',
  analysis: 'Analysis',
  failed: 'Stopped',
  approval: 'Approval',
  freeze: 'Freeze',
  permission: 'Permission',
};

/** How long a soak has left, in words: "4m 10s". */
export function formatRemaining(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h && `${h}h`, m && `${m}m`, (s || (!h && !m)) && `${s}s`]
    .filter(Boolean)
    .join(' ');
}

/** A soak in a few words (the server's sentence stays in the title); anything else as the server says. */
function waitText(wait: PipelineWait) {
  if (wait.kind === 'soak' && wait.remainingSeconds !== undefined) {
    return `${formatRemaining(wait.remainingSeconds)} left${
      wait.until ? `, until ${formatAbsolute(wait.until)}` : ''
    }`;
  }
  return wait.message;
}

/** What the stage waits for before it can take the previous stage's release. */
function StageWaits(props: { stage: PipelineStageView }) {
  const { stage } = props;
  if (!stage.candidate) return null;
  if (stage.waitingFor.length === 0) {
    return (
      <Typography variant="body2">
        {stage.release?.image === stage.candidate
          ? `Has ${stage.candidate}`
          : `Ready for ${stage.candidate}`}
      </Typography>
    );
  }
  return (
    <Box component="ul" m={0} pl={2} aria-label={`${stage.name} waits for`}>
      {stage.waitingFor.map(wait => (
        <Typography
          component="li"
          variant="body2"
          key={`${wait.kind}:${wait.message}`}
          title={wait.message}
        >
          <strong>{`${WAIT_LABELS[wait.kind]}: `}</strong>
          {waitText(wait)}
        </Typography>
      ))}
    </Box>
  );
}

/** @public */
export interface PipelineStageRowProps {
  stage: PipelineStageView;
  index: number;
  /** Shown only when the server says the caller may promote into this stage now. */
  onPromote?: () => void;
}

/** One stage: its release, since when, and what it waits for; the promote button where allowed. */
export function PipelineStageRow(props: PipelineStageRowProps) {
  const { stage, index, onPromote } = props;
  return (
    <Box
      component="li"
      display="flex"
      flexWrap="wrap"
      alignItems="flex-start"
      py={1}
      borderTop={index > 0 ? 1 : 0}
      borderColor="divider"
      aria-label={`Stage ${index + 1}: ${stage.name}`}
      style={{ gap: 16 }}
    >
      <Box minWidth={140}>
        <Typography variant="subtitle2" component="h4">
          {`${index + 1}. ${stage.name}`}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {[
            stage.namespace
              ? `${stage.cluster}/${stage.namespace}`
              : stage.cluster,
            stage.soakSeconds
              ? `soak ${formatRemaining(stage.soakSeconds)}`
              : undefined,
            stage.promotion === 'auto' ? 'automatic' : undefined,
            stage.approvalRequired ? 'needs approval' : undefined,
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography>
      </Box>
      <Box minWidth={220} flex="1 1 220px">
        {stage.release ? (
          <>
            <Typography variant="body2" style={{ wordBreak: 'break-all' }}>
              {stage.release.image}
            </Typography>
            <Typography variant="body2" component="div">
              <RolloutPhaseStatus phase={stage.release.phase} />
              <span title={formatAbsolute(stage.release.since)}>
                {` since ${formatRelative(stage.release.since)}`}
              </span>
            </Typography>
          </>
        ) : (
          <Typography variant="body2" color="textSecondary">
            No workload in this stage
          </Typography>
        )}
      </Box>
      <Box flex="2 1 260px">
        <StageWaits stage={stage} />
      </Box>
      {onPromote && stage.canPromote && (
        <Box>
          <Button
            variant="outlined"
            color="primary"
            size="small"
            onClick={onPromote}
          >
            {`Promote to ${stage.name}`}
          </Button>
        </Box>
      )}
    </Box>
  );
}
