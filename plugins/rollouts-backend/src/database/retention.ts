import { LoggerService } from '@backstage/backend-plugin-api';
import { RolloutHistoryStore } from './RolloutHistoryStore';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Deletes the history rows older than the retention (`rollouts.history.retentionDays`). */
export async function pruneHistory(
  history: RolloutHistoryStore,
  settings: { historyRetentionDays: number },
  logger: LoggerService,
  now = new Date(),
): Promise<number> {
  const before = new Date(
    now.getTime() - settings.historyRetentionDays * DAY_MS,
  );
  const deleted = await history.prune(before);
  if (deleted > 0) {
    logger.info(
      `Deleted ${deleted} rollout history rows older than ${settings.historyRetentionDays} days`,
    );
  }
  return deleted;
}
