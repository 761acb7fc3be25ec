import Grid from '@material-ui/core/Grid';
import type { AnalysisMetricView } from '@rust-delivery-portal/plugin-rollouts-common';
import { AnalysisMetricChart } from './AnalysisMetricChart';

/**
 * A chart per metric. Its own module, loaded lazily: the charting library stays out of the
 * bundle until a workload with an analysis is shown.
 */
export default function AnalysisCharts(props: {
  metrics: AnalysisMetricView[];
}) {
  return (
    <Grid container spacing={2}>
      {props.metrics.map(metric => (
        <Grid item xs={12} md={6} key={metric.name}>
          <AnalysisMetricChart metric={metric} />
        </Grid>
      ))}
    </Grid>
  );
}
