import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import {
  Entity,
  CompoundEntityRef,
  getCompoundEntityRef,
} from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import type {
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { useRolloutHistory, useRollouts } from '../../hooks/useRollouts';
import { isRolloutsAvailable } from '../../isRolloutsAvailable';
import { RolloutActionBar } from '../RolloutActions';
import { ReleasePipeline } from '../ReleasePipeline';
import {
  RolloutAnalysis,
  takesAnalysis,
} from '../RolloutAnalysis/RolloutAnalysis';
import { RolloutSummary } from '../RolloutStatus/RolloutSummary';
import {
  MissingKubernetesAnnotation,
  NoWorkloadsFound,
} from '../RolloutStatus/RolloutsEmptyState';
import { formatStrategy, rolloutName } from '../RolloutStatus/format';
import { HistoryTable } from './HistoryTable';
import { FreezeNotice, PendingApproval } from '../Gates';
import { RevisionsTable } from './RevisionsTable';
import { RolloutSteps } from './RolloutSteps';

function RolloutPanel(props: {
  entityRef: CompoundEntityRef;
  rollout: RolloutView;
  history: { events?: RolloutHistoryEvent[]; error?: Error };
  onRefresh: () => void;
}) {
  const { entityRef, rollout, history, onRefresh } = props;
  const events = history.events?.filter(
    event =>
      event.cluster === rollout.cluster &&
      event.namespace === rollout.namespace &&
      event.workload === rollout.workload,
  );
  let historyBody: JSX.Element;
  if (events) {
    historyBody = (
      <HistoryTable
        events={events}
        label={`History of ${rolloutName(rollout)}`}
      />
    );
  } else if (history.error) {
    historyBody = (
      <ResponseErrorPanel
        error={history.error}
        title="Could not load the history"
      />
    );
  } else {
    historyBody = <Progress aria-label="Loading history" />;
  }

  return (
    <InfoCard
      title={rolloutName(rollout)}
      subheader={`namespace ${rollout.namespace} · ${formatStrategy(
        rollout.strategy,
      )}`}
    >
      <FreezeNotice freeze={rollout.freeze} />
      <Box my={rollout.pendingApproval ? 2 : 0}>
        <PendingApproval rollout={rollout} onRefresh={onRefresh} />
      </Box>
      <Box mb={2} mt={rollout.freeze ? 2 : 0}>
        <RolloutActionBar
          entityRef={entityRef}
          rollout={rollout}
          onRefresh={onRefresh}
        />
      </Box>
      <Grid container spacing={3}>
        <Grid item xs={12} md={5}>
          <RolloutSummary rollout={rollout} />
        </Grid>
        <Grid item xs={12} md={7}>
          <RolloutSteps rollout={rollout} />
          <Typography variant="h6" component="h3">
            Revisions
          </Typography>
          <RevisionsTable rollout={rollout} />
        </Grid>
        {takesAnalysis(rollout) && (
          <Grid item xs={12}>
            <Typography variant="h6" component="h3">
              Analysis
            </Typography>
            <RolloutAnalysis rollout={rollout} />
          </Grid>
        )}
        <Grid item xs={12}>
          <Typography variant="h6" component="h3">
            History
          </Typography>
          {historyBody}
        </Grid>
      </Grid>
    </InfoCard>
  );
}

function RolloutsContentBody(props: { entity: Entity }) {
  const { entity } = props;
  const rollouts = useRollouts(entity);
  const history = useRolloutHistory(entity);
  const entityRef = getCompoundEntityRef(entity);
  const refresh = () => {
    rollouts.retry();
    history.retry();
  };

  if (!rollouts.rollouts && rollouts.loading) {
    return <Progress aria-label="Loading rollouts" />;
  }
  if (rollouts.error) {
    return (
      <ResponseErrorPanel
        error={rollouts.error}
        title="Could not load rollouts"
      />
    );
  }
  if (!rollouts.rollouts || rollouts.rollouts.length === 0) {
    return <NoWorkloadsFound entityName={entity.metadata.name} />;
  }
  return (
    <Grid container spacing={3} direction="column">
      <Grid item>
        <ReleasePipeline entity={entity} onPromoted={refresh} asCard />
      </Grid>
      {rollouts.rollouts.map(rollout => (
        <Grid
          item
          key={`${rollout.cluster}/${rollout.namespace}/${rollout.workload}`}
        >
          <RolloutPanel
            entityRef={entityRef}
            rollout={rollout}
            history={{ events: history.history, error: history.error }}
            onRefresh={refresh}
          />
        </Grid>
      ))}
    </Grid>
  );
}

/**
 * The Deployment tab: per cluster and workload the steps, revisions, history and the actions.
 * @public
 */
export function EntityRolloutsContent() {
  const { entity } = useEntity();
  return isRolloutsAvailable(entity) ? (
    <RolloutsContentBody entity={entity} />
  ) : (
    <MissingKubernetesAnnotation />
  );
}
