import {
  AuditorService,
  AuthService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  approvalDecisionRequestSchema,
  RolloutAction,
  rolloutActionRequestSchema,
  rolloutActionSchema,
  startRolloutRequestSchema,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { CatalogService } from '@backstage/plugin-catalog-node';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { parseEntityRef } from '@backstage/catalog-model';
import { RolloutHistoryStore } from '../database/RolloutHistoryStore';
import { RolloutEngine } from '../engine/RolloutEngine';
import {
  AuthorizedRollouts,
  isApprovalRequested,
  MutationBody,
} from './AuthorizedRollouts';
import { FreezeCalendar } from './gates/FreezeCalendar';
import { ApprovalRules } from './gates/ApprovalRules';
import { ReleaseGates } from './gates/ReleaseGates';
import { DEFAULT_DEPLOY_CONTEXTS } from './ciIdentity';
import { PipelineDefaults } from '../pipelines/declaration';
import { PipelineGate } from '../pipelines/PipelineGate';
import { ReleasePipelines } from '../pipelines/ReleasePipelines';
import { addPipelineRoutes } from '../pipelines/routes';
import { LoggerService } from '@backstage/backend-plugin-api';

export interface RouterOptions {
  engine: RolloutEngine;
  history: RolloutHistoryStore;
  catalog: CatalogService;
  permissions: PermissionsService;
  httpAuth: HttpAuthService;
  auth: AuthService;
  auditor: AuditorService;
  /**
   * How long the views' endpoints reuse an entity read from the catalog and a viewer's permission
   * decisions (see ViewerAccess); 0 asks every time. Actions always ask afresh.
   */
  readCacheMs?: number;
  /** The `subjectPrefix` of the GitHub Actions `jwks` external access; default `github-actions`. */
  githubActionsSubjectPrefix?: string;
  /** The subject contexts GitHub Actions jobs may deploy from; default `environment:production`. */
  githubActionsDeployContexts?: string[];
  /** Release pipelines: the portal's default order, the clock, and the automatic promotion's task. */
  pipelines?: {
    defaults: PipelineDefaults;
    now?: () => Date;
    logger?: LoggerService;
    scheduleAutoPromotion?: (pass: () => Promise<void>) => Promise<void>;
  };
  /** Freeze windows and four-eyes approval; default none. */
  gates?: ReleaseGates;
}

/** Parses with zod and turns its issues into one readable 400. */
function parse<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const detail = result.error.issues
      .map(i =>
        i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
      )
      .join('; ');
    throw new InputError(`Invalid ${what}: ${detail}`);
  }
  return result.data;
}

/**
 * The entity's kind, namespace and name from the path. Validated before they reach the catalog
 * client, whose URL building leaves dot segments alone (`..` would address another catalog route).
 */
const entityPathSchema = z.object({
  kind: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,62}$/, 'must be an entity kind'),
  namespace: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be an entity namespace'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be an entity name'),
});

const historyQuerySchema = z.object({
  cluster: z.string().optional(),
  workload: z.string().optional(),
  // One plain number: a repeated or bracketed parameter (`limit[]=1`) is refused, not coerced.
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .pipe(z.coerce.number().int().min(1).max(1000))
    .optional(),
});

/** `GET /approvals?entityRef=component:default/payments` */
const approvalsQuerySchema = z.object({
  entityRef: z
    .string()
    .transform((ref, ctx) => {
      try {
        return parseEntityRef(ref);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be an entity ref' });
        return z.NEVER;
      }
    })
    .pipe(entityPathSchema),
});

const approvalPathSchema = z.object({
  id: z.string().uuid('must be an approval request id'),
  decision: z.enum(['approve', 'deny']),
});

/**
 * The REST API under `/api/rollouts`: views, starts, actions and history of an entity's rollouts.
 * It parses requests and hands them to AuthorizedRollouts, which decides and acts.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth } = options;
  const gates =
    options.gates ??
    new ReleaseGates({
      freeze: new FreezeCalendar([]),
      rules: new ApprovalRules([]),
      now: () => new Date(),
    });
  const gate = new PipelineGate({
    engine: options.engine,
    history: options.history,
    defaults: options.pipelines?.defaults ?? { stages: [] },
    now: options.pipelines?.now,
  });
  const rollouts = new AuthorizedRollouts({
    pipelineGate: gate,
    ...options,
    readCacheMs: options.readCacheMs ?? 0,
    githubActionsSubjectPrefix:
      options.githubActionsSubjectPrefix ?? 'github-actions',
    githubActionsDeployContexts:
      options.githubActionsDeployContexts ?? DEFAULT_DEPLOY_CONTEXTS,
    gates,
  });
  const router = Router();
  router.use(express.json());

  const entityRefOf = (req: Request) =>
    parse(entityPathSchema, req.params, 'entity in the path');

  router.get('/entities/:kind/:namespace/:name/rollouts', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const items = await rollouts.views(entityRefOf(req), credentials);
    res.json({ items });
  });

  router.get('/entities/:kind/:namespace/:name/history', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const ref = entityRefOf(req);
    const query = parse(historyQuerySchema, req.query, 'query');
    res.json({ items: await rollouts.history(ref, credentials, query) });
  });

  async function mutate(
    req: Request,
    action: RolloutAction | 'start',
    body: MutationBody,
  ) {
    return rollouts.mutate({
      ref: entityRefOf(req),
      credentials: await httpAuth.credentials(req),
      action,
      body,
      request: req,
    });
  }

  router.post('/entities/:kind/:namespace/:name/rollouts', async (req, res) => {
    const body = parse(startRolloutRequestSchema, req.body, 'request');
    const result = await mutate(req, 'start', body);
    res.status(isApprovalRequested(result) ? 202 : 201).json(result);
  });

  router.post(
    '/entities/:kind/:namespace/:name/actions/:action',
    async (req, res) => {
      const action = parse(rolloutActionSchema, req.params.action, 'action');
      const body = parse(rolloutActionRequestSchema, req.body, 'request');
      const result = await mutate(req, action, body);
      res.status(isApprovalRequested(result) ? 202 : 200).json(result);
    },
  );

  router.get('/approvals', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { entityRef } = parse(approvalsQuerySchema, req.query, 'query');
    res.json({ items: await rollouts.approvals(entityRef, credentials) });
  });

  router.post('/approvals/:id/:decision', async (req, res) => {
    const { id, decision } = parse(approvalPathSchema, req.params, 'path');
    const body = parse(approvalDecisionRequestSchema, req.body, 'request');
    const credentials = await httpAuth.credentials(req);
    if (decision === 'approve') {
      res.json(
        await rollouts.approve({ id, credentials, ...body, request: req }),
      );
    } else {
      if (body.override) {
        throw new InputError('A denial takes no freeze override');
      }
      res.json(
        await rollouts.deny({
          id,
          credentials,
          reason: body.reason,
          request: req,
        }),
      );
    }
  });

  const pipelines = new ReleasePipelines({
    rollouts,
    approvals: gates,
    gate,
    catalog: options.catalog,
    auth: options.auth,
    logger: options.pipelines?.logger,
  });
  addPipelineRoutes(router, { pipelines, httpAuth, entityRefOf, parse });
  await options.pipelines?.scheduleAutoPromotion?.(() =>
    pipelines.promoteAutomatically(),
  );

  return router;
}
