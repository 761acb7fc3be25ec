import { lazy, Suspense } from 'react';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { Progress } from '@backstage/core-components';
import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { AnalysisPhaseStatus } from '../RolloutStatus/RolloutPhaseStatus';

const AnalysisCharts = lazy(() => import('./AnalysisCharts'));

const useStyles = makeStyles(theme => ({
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    columnGap: theme.spacing(1),
    marginBottom: theme.spacing(1),
  },
  hint: { color: theme.palette.text.secondary },
  pause: { color: theme.palette.warning.dark, marginBottom: theme.spacing(1) },
}));

/** Strategies the engine judges by an analysis (a rolling update has nothing to compare). */
export function takesAnalysis(rollout: RolloutView): boolean {
  return rollout.strategy === 'Canary' || rollout.strategy === 'BlueGreen';
}

/**
 * The analysis of a rollout on the Deployment tab: its verdict and reason, the reason of a pause
 * it caused, and a chart per metric; or, when the workload declares none, which annotation would.
 */
export function RolloutAnalysis(props: { rollout: RolloutView }) {
  const { rollout } = props;
  const classes = useStyles();
  const analysis = rollout.analysis;
  if (!analysis) {
    return (
      <Box>
        <Typography variant="body2">Analysis not configured</Typography>
        <Typography variant="caption" component="p" className={classes.hint}>
          {`To judge canaries by their metrics, name a ConfigMap with an analysis.yaml in the Deployment's ${ROLLOUT_ANNOTATIONS.analysis} annotation.`}
        </Typography>
      </Box>
    );
  }
  const pausedByAnalysis =
    rollout.pause &&
    (analysis.phase === 'Inconclusive' || analysis.phase === 'Error');
  return (
    <Box>
      <Box className={classes.header}>
        <Typography variant="body2" component="span">
          <AnalysisPhaseStatus phase={analysis.phase} />
        </Typography>
        {analysis.name && (
          <Typography variant="body2" component="span">
            <code>{analysis.name}</code>
          </Typography>
        )}
        {analysis.message && (
          <Typography variant="body2" component="span">
            {analysis.message}
          </Typography>
        )}
      </Box>
      {pausedByAnalysis && (
        <Typography variant="body2" role="status" className={classes.pause}>
          {`Paused for a person: ${
            rollout.pause!.reason
          }. Promote to go on regardless, or abort.`}
        </Typography>
      )}
      {analysis.metrics?.length === 0 && (
        <Typography variant="body2" className={classes.hint}>
          No measurement yet.
        </Typography>
      )}
      {analysis.metrics && analysis.metrics.length > 0 && (
        <Suspense fallback={<Progress aria-label="Loading the charts" />}>
          <AnalysisCharts metrics={analysis.metrics} />
        </Suspense>
      )}
    </Box>
  );
}
