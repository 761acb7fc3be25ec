import { ResponseError } from '@backstage/errors';
import type { RolloutView } from '@rust-delivery-portal/plugin-rollouts-common';
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

/** The message the server put in its error body, as it wrote it. */
function bodyMessage(error: unknown): string | undefined {
  if (error instanceof ResponseError) {
    return error.body?.error?.message?.trim() || undefined;
  }
  if (error instanceof Error) {
    return error.message.trim() || undefined;
  }
  return undefined;
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
    // The server says why (no permission, or a workload the cluster binds to another entity or
    // to none); a ResponseError's own message would only repeat the status line.
    return {
      message:
        bodyMessage(error) ??
        `You are not allowed to ${definition.verb} ${rollout.workload}.`,
      stale: false,
    };
  }
  if (status === 409) {
    // The server says why it refused in this state (the rollout moved on, a freeze window, a
    // release that has not soaked in the previous stage); a refresh shows where it stands.
    const why = bodyMessage(error);
    return {
      message: why
        ? `${why} (refresh to see where it stands)`
        : 'The rollout moved on since you looked: refresh.',
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
