import { z } from 'zod';
import { ROLLOUT_ACTIONS } from './types';

/** A Kubernetes object name (RFC 1123 subdomain, at most 253 characters). */
const k8sName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a Kubernetes name (lowercase letters, digits, "-" and ".")',
  );

/** An OCI image reference: `registry/repo[:tag][@sha256:digest]`, no whitespace. */
const imageRef = z
  .string()
  .min(1)
  .max(512)
  .regex(
    /^[a-z0-9]+([._\-/:][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/i,
    'must be an image reference such as ghcr.io/acme/api:1.2.3',
  );

/**
 * An emergency override of a freeze window: needs the `rollouts.freeze.override` permission and
 * a reason, and is audited as such.
 */
const freezeOverride = z
  .object({ reason: z.string().trim().min(1).max(1000) })
  .strict()
  .describe('Act during a freeze window (needs rollouts.freeze.override)');

/** Body of `POST /entities/:kind/:namespace/:name/rollouts`. @public */
export const startRolloutRequestSchema = z
  .object({
    cluster: k8sName.describe(
      'Cluster name from kubernetes.clusterLocatorMethods',
    ),
    workload: k8sName.optional(),
    image: imageRef,
    reason: z.string().max(1000).optional(),
    override: freezeOverride.optional(),
  })
  .strict();

/** Body of `POST /entities/:kind/:namespace/:name/actions/:action`. @public */
export const rolloutActionRequestSchema = z
  .object({
    cluster: k8sName,
    workload: k8sName.optional(),
    reason: z.string().max(1000).optional(),
    /** The revision the caller saw; the action is refused with 409 when the rollout moved on. */
    revision: z.number().int().min(0).optional(),
    /** The step index the caller saw (canary); refused with 409 when the rollout moved on. */
    stepIndex: z.number().int().min(0).optional(),
    /** For rollback: the revision to go back to (default: the previous one). */
    toRevision: z.number().int().min(1).optional(),
    override: freezeOverride.optional(),
  })
  .strict();

/**
 * Body of `POST /approvals/:id/approve` and `/deny`. Who decides comes from the credentials only;
 * any other field is refused.
 * @public
 */
export const approvalDecisionRequestSchema = z
  .object({
    reason: z.string().trim().min(1).max(1000),
    override: freezeOverride.optional(),
  })
  .strict();

/** @public */
export type ApprovalDecisionRequest = z.infer<
  typeof approvalDecisionRequestSchema
>;

/** @public */
export const rolloutActionSchema = z.enum(ROLLOUT_ACTIONS);

/** @public */
export type StartRolloutRequest = z.infer<typeof startRolloutRequestSchema>;
/** @public */
export type RolloutActionRequest = z.infer<typeof rolloutActionRequestSchema>;
