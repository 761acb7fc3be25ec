import { Fragment } from 'react';
import Box from '@material-ui/core/Box';
import Divider from '@material-ui/core/Divider';
import Typography from '@material-ui/core/Typography';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { useRollouts } from '../../hooks/useRollouts';
import { ReleasePipeline } from '../ReleasePipeline';
import { isRolloutsAvailable } from '../../isRolloutsAvailable';
import { RolloutSummary } from '../RolloutStatus/RolloutSummary';
import { FreezeNotice, PendingApproval } from '../Gates';
import {
  isReadOnlyByBinding,
  WorkloadBindingNotice,
} from '../RolloutStatus/WorkloadBindingNotice';
import {
  MissingKubernetesAnnotation,
  NoWorkloadsFound,
} from '../RolloutStatus/RolloutsEmptyState';

/** @public */
export interface EntityRolloutCardProps {
  /** Card title; defaults to "Rollouts". */
  title?: string;
}

function RolloutCardBody(props: { entity: Entity }) {
  const { rollouts, loading, error, retry } = useRollouts(props.entity);
  if (!rollouts && loading) {
    return <Progress aria-label="Loading rollouts" />;
  }
  if (error) {
    return <ResponseErrorPanel error={error} title="Could not load rollouts" />;
  }
  if (!rollouts || rollouts.length === 0) {
    return <NoWorkloadsFound entityName={props.entity.metadata.name} />;
  }
  return (
    <>
      <ReleasePipeline entity={props.entity} onPromoted={retry} />
      {rollouts.map((rollout, i) => (
        <Fragment
          key={`${rollout.cluster}/${rollout.namespace}/${rollout.workload}`}
        >
          {i > 0 && <Divider style={{ margin: '16px 0' }} />}
          <section aria-label={`${rollout.workload} on ${rollout.cluster}`}>
            <Typography variant="subtitle1" component="h3" gutterBottom>
              {rollout.workload} on {rollout.cluster}
              <Typography
                variant="caption"
                component="span"
                color="textSecondary"
              >
                {`  namespace ${rollout.namespace}`}
              </Typography>
            </Typography>
            {isReadOnlyByBinding(rollout) && (
              <Box mb={2}>
                <WorkloadBindingNotice
                  rollout={rollout}
                  entityRef={stringifyEntityRef(props.entity)}
                />
              </Box>
            )}
            {rollout.freeze && (
              <Box mb={2}>
                <FreezeNotice freeze={rollout.freeze} />
              </Box>
            )}
            {rollout.pendingApproval && (
              <Box mb={2}>
                <PendingApproval rollout={rollout} onRefresh={retry} />
              </Box>
            )}
            <RolloutSummary rollout={rollout} />
          </section>
        </Fragment>
      ))}
    </>
  );
}

/**
 * The entity's rollouts per cluster, for the overview page.
 * @public
 */
export function EntityRolloutCard(props: EntityRolloutCardProps) {
  const { entity } = useEntity();
  return (
    <InfoCard title={props.title ?? 'Rollouts'}>
      {isRolloutsAvailable(entity) ? (
        <RolloutCardBody entity={entity} />
      ) : (
        <MissingKubernetesAnnotation />
      )}
    </InfoCard>
  );
}
