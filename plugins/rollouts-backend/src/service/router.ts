import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  AllowedAction,
  RolloutAction,
  rolloutActionRequestSchema,
  rolloutActionSchema,
  startRolloutRequestSchema,
} from '@internal/plugin-rollouts-common';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { RolloutHistoryStore } from '../database/RolloutHistoryStore';
import { RolloutEngine } from '../engine/RolloutEngine';
import { ACTING, grantedActions, permissionOf } from './acting';
import { ViewerAccess } from './ViewerAccess';

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

type MutationBody = {
  cluster: string;
  workload?: string;
  reason?: string;
  image?: string;
  revision?: number;
  stepIndex?: number;
  toRevision?: number;
};

function actorOf(credentials: BackstageCredentials) {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user') return p.userEntityRef!;
  if (p.type === 'service') return `service:${p.subject}`;
  return 'anonymous';
}

/** The REST API under `/api/rollouts`: views, starts, actions and history of an entity's rollouts. */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { engine, history, catalog, permissions, httpAuth, auth, auditor } =
    options;
  const router = Router();
  router.use(express.json());
  const viewers = new ViewerAccess({
    catalog,
    permissions,
    auth,
    ttlMs: options.readCacheMs ?? 0,
  });

  /** The entity in the path, and what the viewer may do with its rollouts. */
  async function viewerOf(req: Request) {
    const credentials = await httpAuth.credentials(req);
    const ref = parse(entityPathSchema, req.params, 'entity in the path');
    return viewers.resolve(ref, credentials);
  }

  async function entityOf(
    req: Request,
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    const { kind, namespace, name } = parse(
      entityPathSchema,
      req.params,
      'entity in the path',
    );
    const entity = await catalog.getEntityByRef(
      { kind, namespace, name },
      { credentials },
    );
    if (!entity) {
      throw new NotFoundError(`No entity ${kind}:${namespace}/${name}`);
    }
    return entity;
  }

  /** The actions the caller may take on the entity's rollouts: one batched authorize, no cache. */
  async function authorizeOn(
    entity: Entity,
    credentials: BackstageCredentials,
  ): Promise<Set<AllowedAction>> {
    const resourceRef = stringifyEntityRef(entity);
    const decisions = await permissions.authorize(
      ACTING.map(a => ({ permission: permissionOf(a), resourceRef })),
      { credentials },
    );
    return grantedActions(
      auth.isPrincipal(credentials, 'service'),
      (_action, i) => decisions[i].result === AuthorizeResult.ALLOW,
    );
  }

  router.get('/entities/:kind/:namespace/:name/rollouts', async (req, res) => {
    const { entity, granted } = await viewerOf(req);
    const items = await engine.views(entity, (_view, possible) =>
      possible.filter(a => granted.has(a)),
    );
    res.json({ items });
  });

  router.get('/entities/:kind/:namespace/:name/history', async (req, res) => {
    const { entity } = await viewerOf(req);
    const query = parse(
      z.object({
        cluster: z.string().optional(),
        workload: z.string().optional(),
        // One plain number: a repeated or bracketed parameter (`limit[]=1`) is refused, not coerced.
        limit: z
          .string()
          .regex(/^\d+$/, 'must be a whole number')
          .pipe(z.coerce.number().int().min(1).max(1000))
          .optional(),
      }),
      req.query,
      'query',
    );
    const items = await history.list({
      entityRef: stringifyEntityRef(entity),
      ...query,
    });
    res.json({ items });
  });

  /**
   * Runs one mutation: audited (allowed, denied or failed alike), permission-checked on the
   * server, and recorded in the history with who, why, step and revision.
   */
  async function mutate(
    req: Request,
    res: express.Response,
    eventId: 'rollout-start' | 'rollout-action',
    parseRequest: () => { action: RolloutAction | 'start'; body: MutationBody },
  ) {
    const { kind, namespace, name } = req.params;
    const entityRefGuess = `${kind}:${namespace}/${name}`.toLocaleLowerCase(
      'en-US',
    );
    const auditorEvent = await auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request: req,
      meta: {
        action:
          eventId === 'rollout-start' ? 'start' : req.params.action ?? null,
        entityRef: entityRefGuess,
      },
    });
    let entityRef: string | undefined;
    let actor = 'unknown';
    try {
      const credentials = await httpAuth.credentials(req);
      actor = actorOf(credentials);
      const { action, body } = parseRequest();
      const cluster = body.cluster;
      const entity = await entityOf(req, credentials);
      entityRef = stringifyEntityRef(entity);
      // Resolve the workload first so history rows (even denied ones) name it.
      const located = await engine.locate(entity, cluster, body.workload);
      const workload = located.primary.metadata!.name!;
      const workloadNamespace = located.primary.metadata!.namespace!;
      const granted = await authorizeOn(entity, credentials);
      if (!granted.has(action)) {
        await history.record({
          entityRef,
          cluster,
          namespace: workloadNamespace,
          workload,
          action,
          actor,
          reason: body.reason,
          outcome: 'denied',
          image: body.image,
          stepIndex: body.stepIndex,
          revision: body.revision,
          message: `${actor} may not ${action} rollouts of ${entityRef}`,
        });
        throw new NotAllowedError(
          `You may not ${action} rollouts of ${entityRef}`,
        );
      }
      let result;
      try {
        result = await engine.act({
          entity,
          cluster,
          workload: body.workload,
          action,
          image: body.image,
          input: { reason: body.reason, toRevision: body.toRevision },
          expected: { stepIndex: body.stepIndex, revision: body.revision },
          actor,
          allowed: (_v, possible) => possible.filter(a => granted.has(a)),
        });
      } catch (error) {
        await history.record({
          entityRef,
          cluster,
          namespace: workloadNamespace,
          workload,
          action,
          actor,
          reason: body.reason,
          outcome: 'failed',
          image: body.image,
          stepIndex: body.stepIndex,
          revision: body.revision,
          message: (error as Error).message,
        });
        throw error;
      }
      await history.record({
        entityRef,
        cluster,
        namespace: result.view.namespace,
        workload: result.view.workload,
        action,
        actor,
        reason: body.reason,
        outcome: 'succeeded',
        image:
          action === 'start'
            ? body.image
            : result.view.targetImage ?? result.view.stableImage,
        // An action is recorded at the step it was taken on; a start begins the new rollout's first.
        stepIndex: action === 'start' ? 0 : result.before.stepIndex,
        revision: result.view.revision,
        message: result.view.message,
      });
      await auditorEvent.success({
        meta: {
          entityRef,
          phase: result.view.phase,
          revision: result.view.revision,
          step: result.view.step.index,
        },
      });
      res.status(action === 'start' ? 201 : 200).json(result.view);
    } catch (error) {
      await auditorEvent.fail({
        error: error as Error,
        meta: { entityRef: entityRef ?? entityRefGuess, actor },
      });
      throw error;
    }
  }

  router.post('/entities/:kind/:namespace/:name/rollouts', async (req, res) => {
    await mutate(req, res, 'rollout-start', () => ({
      action: 'start',
      body: parse(startRolloutRequestSchema, req.body, 'request'),
    }));
  });

  router.post(
    '/entities/:kind/:namespace/:name/actions/:action',
    async (req, res) => {
      await mutate(req, res, 'rollout-action', () => ({
        action: parse(rolloutActionSchema, req.params.action, 'action'),
        body: parse(rolloutActionRequestSchema, req.body, 'request'),
      }));
    },
  );

  return router;
}
