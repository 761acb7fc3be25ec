import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';

export interface EngineSettings {
  reconcileInterval: HumanDuration;
  unreadyThresholdMs: number;
  /** How long the views' endpoints reuse an entity and a viewer's decisions. */
  readCacheMs: number;
  /** History rows whose last occurrence is older than this are deleted. */
  historyRetentionDays: number;
  /** The `subjectPrefix` of the GitHub Actions `jwks` external access. */
  githubActionsSubjectPrefix: string;
  /** The subject contexts GitHub Actions jobs may deploy from. */
  githubActionsDeployContexts?: string[];
  /** How often stages with `promotion: auto` are looked at. */
  pipelinePromotionInterval: HumanDuration;
}

/** Reads the `rollouts.*` keys. */
export function readEngineSettings(config: Config): EngineSettings {
  const reconcileInterval = config.has('rollouts.reconcileInterval')
    ? readDurationFromConfig(config, { key: 'rollouts.reconcileInterval' })
    : { seconds: 3 };
  const threshold =
    config.getOptionalNumber('rollouts.defaultUnreadyThresholdSeconds') ?? 60;
  // Longer than the card's idle poll (10 s), so one person's open page is answered from memory.
  const readCache = config.getOptionalNumber('rollouts.readCacheSeconds') ?? 30;
  if (readCache < 0) {
    throw new Error('rollouts.readCacheSeconds must not be negative');
  }
  const retention =
    config.getOptionalNumber('rollouts.history.retentionDays') ?? 365;
  if (!(retention > 0)) {
    throw new Error('rollouts.history.retentionDays must be a positive number');
  }
  const pipelinePromotionInterval = config.has(
    'rollouts.pipelines.promotionInterval',
  )
    ? readDurationFromConfig(config, {
        key: 'rollouts.pipelines.promotionInterval',
      })
    : { seconds: 30 };
  return {
    reconcileInterval,
    pipelinePromotionInterval,
    unreadyThresholdMs: threshold * 1000,
    readCacheMs: readCache * 1000,
    historyRetentionDays: retention,
    githubActionsSubjectPrefix:
      config.getOptionalString('rollouts.githubActions.subjectPrefix') ??
      'github-actions',
    githubActionsDeployContexts: config.getOptionalStringArray(
      'rollouts.githubActions.deployContexts',
    ),
  };
}
