import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';

export interface EngineSettings {
  reconcileInterval: HumanDuration;
  unreadyThresholdMs: number;
}

/** Reads the `rollouts.*` keys. */
export function readEngineSettings(config: Config): EngineSettings {
  const reconcileInterval = config.has('rollouts.reconcileInterval')
    ? readDurationFromConfig(config, { key: 'rollouts.reconcileInterval' })
    : { seconds: 3 };
  const threshold =
    config.getOptionalNumber('rollouts.defaultUnreadyThresholdSeconds') ?? 60;
  return { reconcileInterval, unreadyThresholdMs: threshold * 1000 };
}
