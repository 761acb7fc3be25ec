import { ResponseError } from '@backstage/errors';
import type { RolloutView } from '@internal/plugin-rollouts-common';
import type { ActionDefinition } from './actions';

/** What went wrong, in words the user can act on. */
export interface ActionErrorDescription {
  message: string;
  /** The server refused because the rollout changed since the page was rendered. */
  stale: boolean;
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof ResponseError) {
    return error.statusCode;
  }
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function serverMessage(error: unknown): string | undefined {
  if (error instanceof ResponseError) {
    return error.body?.error?.message || error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  return undefined;
}

export function describeActionError(
  error: unknown,
  definition: ActionDefinition,
  rollout: RolloutView,
): ActionErrorDescription {
  const status = statusOf(error);
  if (status === 403) {
    return {
      message: `You are not allowed to ${definition.verb} ${rollout.workload}: you do not own it.`,
      stale: false,
    };
  }
  if (status === 409) {
    return {
      message: 'The rollout moved on since you looked: refresh.',
      stale: true,
    };
  }
  const message = serverMessage(error)?.trim();
  return {
    message:
      message ||
      `Could not ${definition.verb} ${rollout.workload}${
        status ? ` (HTTP ${status})` : ''
      }.`,
    stale: false,
  };
}
