import Step from '@material-ui/core/Step';
import StepLabel from '@material-ui/core/StepLabel';
import Stepper from '@material-ui/core/Stepper';
import Typography from '@material-ui/core/Typography';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
import { describeStep, formatStep, rolloutName } from '../RolloutStatus/format';

/** Steps of a strategy that declares none: what the engine does, in order. */
function implicitSteps(rollout: RolloutView): string[] {
  switch (rollout.strategy) {
    case 'BlueGreen':
      return [
        'Bring up the preview',
        'Switch active traffic',
        'Scale down the old version',
      ];
    case 'RollingUpdate':
      return ['Replace pods'];
    default:
      return ['Roll out'];
  }
}

/** The rollout's steps as a stepper, the current one marked for sight and for screen readers. */
export function RolloutSteps(props: { rollout: RolloutView }) {
  const { rollout } = props;
  const labels =
    rollout.steps.length > 0
      ? rollout.steps.map(describeStep)
      : implicitSteps(rollout);
  // A healthy rollout has nothing in flight: every step of its last rollout is done.
  const finished = rollout.phase === 'Healthy';
  const active = Math.min(rollout.step.index, labels.length - 1);

  return (
    <nav aria-label={`Steps of ${rolloutName(rollout)}`}>
      <Typography variant="body2" color="textSecondary">
        {formatStep(rollout.step)}
      </Typography>
      <Stepper activeStep={finished ? labels.length : active} alternativeLabel>
        {labels.map((label, index) => {
          const current = !finished && index === active;
          return (
            <Step
              key={`${index}-${label}`}
              completed={finished || index < active}
              aria-current={current ? 'step' : undefined}
            >
              <StepLabel
                error={
                  current &&
                  (rollout.phase === 'Degraded' || rollout.phase === 'Aborted')
                }
              >
                {label}
                {current && (
                  <Typography variant="caption" display="block">
                    {`current · ${rollout.phase}`}
                  </Typography>
                )}
              </StepLabel>
            </Step>
          );
        })}
      </Stepper>
    </nav>
  );
}
