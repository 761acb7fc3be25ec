import { DateTime } from 'luxon';
import type {
  CanaryStep,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** "Step 2 of 5": the step index is 0-based and may equal `total` once every step is done. */
export function formatStep(step: RolloutView['step']): string {
  const total = Math.max(step.total, 1);
  const current = Math.min(step.index + 1, total);
  return `Step ${current} of ${total}`;
}

/** `5 minutes ago`, or the raw value when it is not an ISO timestamp. */
export function formatRelative(iso: string): string {
  const date = DateTime.fromISO(iso);
  return date.isValid ? date.toRelative() ?? iso : iso;
}

/** A readable absolute time for tooltips and titles. */
export function formatAbsolute(iso: string): string {
  const date = DateTime.fromISO(iso);
  return date.isValid
    ? date.toLocaleString(DateTime.DATETIME_MED_WITH_SECONDS)
    : iso;
}

/** The traffic weight in effect once `steps[0..index]` have run: the last `setWeight` so far. */
export function weightAtStep(steps: CanaryStep[], index: number): number {
  let weight = 0;
  for (let i = 0; i <= index && i < steps.length; i++) {
    const step = steps[i];
    if ('setWeight' in step) {
      weight = step.setWeight;
    }
  }
  return weight;
}

/** A step in words: "Set weight to 20%", "Pause until promoted", "Pause for 60s". */
export function describeStep(step: CanaryStep): string {
  if ('setWeight' in step) {
    return `Set weight to ${step.setWeight}%`;
  }
  return step.pause?.duration
    ? `Pause for ${step.pause.duration}`
    : 'Pause until promoted';
}

/** `payments-api on local`: how the UI names one rollout. */
export function rolloutName(rollout: RolloutView): string {
  return `${rollout.workload} on ${rollout.cluster}`;
}

const strategyNames: Record<RolloutView['strategy'], string> = {
  RollingUpdate: 'Rolling update',
  Canary: 'Canary',
  BlueGreen: 'Blue-green',
};

export function formatStrategy(strategy: RolloutView['strategy']): string {
  return strategyNames[strategy] ?? strategy;
}
