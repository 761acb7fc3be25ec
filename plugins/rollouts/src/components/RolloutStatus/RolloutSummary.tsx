import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { AnalysisSummary } from './AnalysisSummary';
import { RolloutPhaseStatus } from './RolloutPhaseStatus';
import {
  formatAbsolute,
  formatRelative,
  formatStep,
  formatStrategy,
  rolloutName,
} from './format';

const useStyles = makeStyles(theme => ({
  grid: {
    display: 'grid',
    gridTemplateColumns: 'max-content 1fr',
    columnGap: theme.spacing(2),
    rowGap: theme.spacing(0.75),
    alignItems: 'center',
    margin: 0,
  },
  term: {
    color: theme.palette.text.secondary,
    fontWeight: theme.typography.fontWeightMedium as number,
  },
  definition: { margin: 0, minWidth: 0, overflowWrap: 'anywhere' },
  bar: { flex: 1, height: 8, borderRadius: 4 },
  weightValue: { minWidth: '3.5em', textAlign: 'right' },
  image: { fontFamily: theme.typography.fontFamily, wordBreak: 'break-all' },
  note: { color: theme.palette.text.secondary },
  warning: { color: theme.palette.warning.dark, marginTop: theme.spacing(1) },
}));

/** Who moves the rollout: the portal's engine (by default) or Argo Rollouts' controller. */
export function formatController(rollout: RolloutView): string {
  return rollout.controller === 'argo-rollouts'
    ? 'Argo Rollouts'
    : 'Rollouts engine';
}

function WeightBar(props: { label: string; value: number }) {
  const classes = useStyles();
  const value = Math.max(0, Math.min(100, props.value));
  return (
    <Box display="flex" alignItems="center" gridGap={8}>
      <LinearProgress
        className={classes.bar}
        variant="determinate"
        value={value}
        aria-label={props.label}
      />
      <Typography variant="body2" className={classes.weightValue}>
        {`${props.value}%`}
      </Typography>
    </Box>
  );
}

/**
 * One rollout at a glance: strategy, phase, step, weights, images, pause and message.
 * Shared by the overview card and the Deployment tab.
 */
/** What the HTTPRoute in the cluster says: the weight is exact there, once its Gateway accepts it. */
function trafficNote(traffic: NonNullable<RolloutView['traffic']>): string {
  const where = `HTTPRoute ${traffic.route}`;
  if (traffic.accepted === true) {
    return `Exact weight, read from ${where} (accepted by its Gateway)`;
  }
  return `Exact weight through ${where}: ${
    traffic.message ?? 'not accepted by its Gateway'
  }`;
}

export function RolloutSummary(props: { rollout: RolloutView }) {
  const { rollout } = props;
  const classes = useStyles();
  const rows: Array<[string, React.ReactNode]> = [
    [
      'Strategy',
      <Chip
        size="small"
        variant="outlined"
        label={formatStrategy(rollout.strategy)}
      />,
    ],
    [
      'Controller',
      <Chip
        size="small"
        variant="outlined"
        label={formatController(rollout)}
      />,
    ],
    ['Phase', <RolloutPhaseStatus phase={rollout.phase} />],
    ['Step', formatStep(rollout.step)],
    [
      'Desired weight',
      <WeightBar
        label={`Desired weight of the new version of ${rolloutName(rollout)}`}
        value={rollout.weight.desired}
      />,
    ],
    [
      'Actual weight',
      <WeightBar
        label={`Actual weight of the new version of ${rolloutName(rollout)}`}
        value={rollout.weight.actual}
      />,
    ],
    [
      'Stable image',
      <code className={classes.image}>{rollout.stableImage}</code>,
    ],
  ];
  if (rollout.targetImage && rollout.targetImage !== rollout.stableImage) {
    rows.push([
      'New image',
      <code className={classes.image}>{rollout.targetImage}</code>,
    ]);
  }
  if (rollout.pause) {
    rows.push([
      'Pause',
      <span>
        {rollout.pause.reason}
        {' · '}
        <time
          dateTime={rollout.pause.since}
          title={formatAbsolute(rollout.pause.since)}
        >
          {`since ${formatRelative(rollout.pause.since)}`}
        </time>
      </span>,
    ]);
  }
  if (rollout.analysis) {
    rows.push(['Analysis', <AnalysisSummary analysis={rollout.analysis} />]);
  }
  if (rollout.message) {
    rows.push(['Message', rollout.message]);
  }

  return (
    <Box>
      <dl className={classes.grid}>
        {rows.map(([term, definition]) => (
          <Box key={term} display="contents">
            <dt className={classes.term}>
              <Typography variant="body2" component="span">
                {term}
              </Typography>
            </dt>
            <dd className={classes.definition}>
              <Typography variant="body2" component="div">
                {definition}
              </Typography>
            </dd>
          </Box>
        ))}
      </dl>
      {rollout.warning && (
        <Typography variant="body2" role="alert" className={classes.warning}>
          {rollout.warning}
        </Typography>
      )}
      {rollout.weight.method === 'traffic-router' && (
        <Typography variant="caption" component="p" className={classes.note}>
          Actual weight as the traffic router reports it
        </Typography>
      )}
      {rollout.weight.method === 'replica-ratio' && (
        <Typography variant="caption" component="p" className={classes.note}>
          Weight is approximated by replica ratio (no traffic router)
        </Typography>
      )}
      {rollout.weight.method === 'gateway-api' && rollout.traffic && (
        <Typography variant="caption" component="p" className={classes.note}>
          {trafficNote(rollout.traffic)}
        </Typography>
      )}
    </Box>
  );
}
