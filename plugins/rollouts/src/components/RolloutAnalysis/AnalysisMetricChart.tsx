import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { makeStyles, useTheme } from '@material-ui/core/styles';
import { DateTime } from 'luxon';
import {
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type {
  AnalysisMeasurement,
  AnalysisMetricView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { AnalysisPhaseStatus } from '../RolloutStatus/RolloutPhaseStatus';
import {
  describeMeasurement,
  formatCounts,
  formatInterval,
  formatMetricValue,
  thresholdOf,
} from './formatAnalysis';

const useStyles = makeStyles(theme => ({
  figure: { margin: 0, minWidth: 0 },
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    columnGap: theme.spacing(1.5),
  },
  caption: { color: theme.palette.text.secondary },
  swatch: { fontSize: '1.1em', lineHeight: 1 },
}));

type Verdict = AnalysisMeasurement['phase'];

/** One point of the chart: a measurement, with a "no data" marker where the canary had none. */
interface Point {
  time: string;
  canary?: number;
  stable?: number;
  noData?: number;
  phase: Verdict;
}

function useVerdictColours(): Record<Verdict, string> {
  const theme = useTheme();
  return {
    Successful: theme.palette.success.main,
    Failed: theme.palette.error.main,
    Inconclusive: theme.palette.warning.main,
    Error: theme.palette.warning.dark,
  };
}

const verdictWords: Record<Verdict, string> = {
  Successful: 'passed',
  Failed: 'failed',
  Inconclusive: 'inconclusive',
  Error: 'error',
};

/**
 * One metric of an analysis: the canary's values against the stable pods' over time, the
 * threshold as a reference line, each canary point coloured by its verdict; below, the counts
 * against the limits and the last measurement in words.
 */
export function AnalysisMetricChart(props: { metric: AnalysisMetricView }) {
  const { metric } = props;
  const classes = useStyles();
  const theme = useTheme();
  const colours = useVerdictColours();
  const threshold = thresholdOf(metric);
  const points: Point[] = metric.measurements.map(m => ({
    time: DateTime.fromISO(m.at).toFormat('HH:mm:ss'),
    canary: m.canary,
    stable: m.stable,
    // Drawn on the axis: a measurement without a canary value still shows, and says why.
    noData: m.canary === undefined ? 0 : undefined,
    phase: m.phase,
  }));
  const last = metric.measurements[metric.measurements.length - 1];
  const verdictsSeen = [...new Set(points.map(p => p.phase))];

  const verdictDot = (dot: {
    cx?: number;
    cy?: number;
    index?: number;
    payload?: Point;
  }) => {
    // A measurement without a canary value has no point on the line (its marker is the triangle).
    if (
      !Number.isFinite(dot.cx) ||
      !Number.isFinite(dot.cy) ||
      dot.payload?.canary === undefined
    ) {
      return <g key={`dot-${dot.index}`} />;
    }
    return (
      <circle
        key={`dot-${dot.index}`}
        cx={dot.cx}
        cy={dot.cy}
        r={4}
        fill={colours[dot.payload.phase]}
        stroke={theme.palette.background.paper}
        data-verdict={dot.payload.phase}
      />
    );
  };

  return (
    <figure
      className={classes.figure}
      aria-label={`${metric.name}: canary against stable`}
    >
      <Box className={classes.header}>
        <Typography variant="subtitle2" component="h4">
          {metric.name}
        </Typography>
        <Typography variant="body2" component="span">
          <AnalysisPhaseStatus phase={metric.phase} />
        </Typography>
        <Typography variant="caption" className={classes.caption}>
          {[
            metric.successCondition && `pass: ${metric.successCondition}`,
            metric.failureCondition && `fail: ${metric.failureCondition}`,
            formatInterval(metric.intervalSeconds),
          ]
            .filter(Boolean)
            .join(' · ')}
        </Typography>
      </Box>
      {points.length === 0 ? (
        <Typography variant="body2" className={classes.caption}>
          No measurement yet.
        </Typography>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <ComposedChart
            data={points}
            margin={{ top: 4, right: 28, bottom: 0, left: 0 }}
          >
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="time" tick={{ fontSize: 11 }} />
            <YAxis
              width={56}
              tick={{ fontSize: 11 }}
              tickFormatter={(value: number) => formatMetricValue(value)}
            />
            <Tooltip formatter={(value: number) => formatMetricValue(value)} />
            <Legend iconSize={10} />
            {threshold !== undefined && (
              <ReferenceLine
                y={threshold}
                stroke={theme.palette.error.light}
                strokeDasharray="4 4"
                ifOverflow="extendDomain"
                label={{
                  value: `threshold ${formatMetricValue(threshold)}`,
                  position: 'insideTopRight',
                  fontSize: 11,
                  fill: theme.palette.text.secondary,
                }}
              />
            )}
            <Line
              type="monotone"
              dataKey="stable"
              name="stable"
              stroke={theme.palette.grey[500]}
              strokeDasharray="5 3"
              dot={false}
              isAnimationActive={false}
            />
            <Line
              type="monotone"
              dataKey="canary"
              name="canary"
              stroke={theme.palette.primary.main}
              dot={verdictDot}
              activeDot={{ r: 5 }}
              isAnimationActive={false}
            />
            <Scatter
              dataKey="noData"
              name="no data"
              fill={colours.Inconclusive}
              shape="triangle"
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      )}
      <Typography variant="caption" component="p" className={classes.caption}>
        {verdictsSeen.map(phase => (
          <span key={phase}>
            <span
              className={classes.swatch}
              style={{ color: colours[phase] }}
              aria-hidden
            >
              ●
            </span>
            {` ${verdictWords[phase]}  `}
          </span>
        ))}
      </Typography>
      <Typography variant="body2" component="p">
        {formatCounts(metric)}
      </Typography>
      {last && (
        <Typography variant="body2" component="p">
          {`Last: ${describeMeasurement(last)}`}
        </Typography>
      )}
    </figure>
  );
}
