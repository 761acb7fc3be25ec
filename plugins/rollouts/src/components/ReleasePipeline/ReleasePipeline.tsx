import { useState } from 'react';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { InfoCard, ResponseErrorPanel } from '@backstage/core-components';
import { Entity, getCompoundEntityRef } from '@backstage/catalog-model';
import type { PipelineStageView } from '@rust-delivery-portal/plugin-rollouts-common';
import { usePipeline } from '../../hooks/usePipeline';
import { PipelineStageRow } from './PipelineStageRow';
import { PromoteReleaseDialog } from './PromoteReleaseDialog';

/** @public */
export interface ReleasePipelineProps {
  entity: Entity;
  /** Called after a promotion, so the page's rollouts refresh with it. */
  onPromoted?: () => void;
  /** In a card of its own (the Deployment tab), rather than inline (the overview card). */
  asCard?: boolean;
}

/**
 * The entity's release pipeline at a glance: its stages in order, the release in each and since
 * when, what each waits for, and "Promote to <stage>" where the server says the caller may.
 * Renders nothing for an entity without a pipeline.
 * @public
 */
export function ReleasePipeline(props: ReleasePipelineProps) {
  const { entity, onPromoted, asCard } = props;
  const { pipeline, loading, error, retry } = usePipeline(entity);
  // Kept as it was when the button was pressed: the poll must not change what the user confirms.
  const [promoting, setPromoting] = useState<{
    stage: PipelineStageView;
    previous: string;
  }>();
  // Most entities have no pipeline: the rollouts below show the page's progress, not this.
  if (!pipeline && loading) return null;
  if (error) {
    return (
      <ResponseErrorPanel
        error={error}
        title="Could not load the release pipeline"
      />
    );
  }
  if (!pipeline || (pipeline.stages.length === 0 && !pipeline.error))
    return null;
  const content = (
    <Box component="section" aria-label="Release pipeline" mb={asCard ? 0 : 2}>
      {!asCard && (
        <Typography variant="subtitle1" component="h3">
          Release pipeline
        </Typography>
      )}
      {pipeline.error && <Alert severity="error">{pipeline.error}</Alert>}
      <Box component="ol" m={0} p={0} style={{ listStyle: 'none' }}>
        {pipeline.stages.map((stage, i) => (
          <PipelineStageRow
            key={stage.name}
            stage={stage}
            index={i}
            onPromote={() =>
              setPromoting({
                stage,
                previous: pipeline.stages[i - 1]?.name ?? '',
              })
            }
          />
        ))}
      </Box>
      {promoting && (
        <PromoteReleaseDialog
          entityRef={getCompoundEntityRef(entity)}
          stage={promoting.stage}
          previousStage={promoting.previous}
          onClose={() => setPromoting(undefined)}
          onPromoted={() => {
            retry();
            onPromoted?.();
          }}
        />
      )}
    </Box>
  );
  return asCard ? (
    <InfoCard title="Release pipeline">{content}</InfoCard>
  ) : (
    content
  );
}
