import Typography from '@material-ui/core/Typography';
import type { AnalysisView } from '@rust-delivery-portal/plugin-rollouts-common';
import { formatMetricValue } from '../RolloutAnalysis/formatAnalysis';
import { AnalysisPhaseStatus } from './RolloutPhaseStatus';

/**
 * The analysis in one or two lines for the summary: its verdict, name and reason, then per metric
 * its verdict, last canary value and failures against the limit ("error-ratio Failed · 0.062 ·
 * 2/1 failed"). The Deployment tab draws the charts.
 */
export function AnalysisSummary(props: { analysis: AnalysisView }) {
  const { name, phase, message, metrics } = props.analysis;
  return (
    <>
      <AnalysisPhaseStatus phase={phase} />
      {[name && ` (${name})`, message && ` · ${message}`]
        .filter(Boolean)
        .join('')}
      {metrics && metrics.length > 0 && (
        <Typography variant="caption" component="div" color="textSecondary">
          {metrics
            .map(metric => {
              const last = metric.measurements[metric.measurements.length - 1];
              return [
                `${metric.name} ${metric.phase}`,
                last && formatMetricValue(last.canary),
                `${metric.failed}/${metric.failureLimit} failed`,
              ]
                .filter(Boolean)
                .join(' · ');
            })
            .join('; ')}
        </Typography>
      )}
    </>
  );
}
