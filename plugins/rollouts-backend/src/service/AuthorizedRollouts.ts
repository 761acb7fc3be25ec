import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  AllowedAction,
  RolloutAction,
  RolloutHistoryEvent,
  RolloutView,
} from '@internal/plugin-rollouts-common';
import { Request } from 'express';
import {
  NewHistoryEvent,
  RolloutHistoryStore,
} from '../database/RolloutHistoryStore';
import {
  LocatedWorkload,
  RolloutEngine,
  WorkloadView,
} from '../engine/RolloutEngine';
import { ACTING, grantedActions, permissionOf } from './acting';
import { githubActionsIdentityOf, githubActionsRefusal } from './ciIdentity';
import { ViewerAccess } from './ViewerAccess';

/** What a start or an action asks for, as the router parsed it. */
export interface MutationBody {
  cluster: string;
  workload?: string;
  reason?: string;
  image?: string;
  revision?: number;
  stepIndex?: number;
  toRevision?: number;
}

export interface Mutation {
  ref: CompoundEntityRef;
  credentials: BackstageCredentials;
  action: RolloutAction | 'start';
  body: MutationBody;
  /** For the audit event (who, from where); absent when the pipeline promotes on its own. */
  request?: Request;
  /** What set the mutation off when no person asked (`pipeline`), for the audit event. */
  trigger?: 'pipeline';
}

/** A rule a start must pass, besides permission and binding (release pipelines' soak). */
export interface StartRule {
  /** Why the start must wait (409), or undefined when it may go ahead. */
  startRefusal(
    entity: Entity,
    located: LocatedWorkload,
    image: string,
  ): Promise<string | undefined>;
}

export interface AuthorizedRolloutsOptions {
  engine: RolloutEngine;
  history: RolloutHistoryStore;
  catalog: CatalogService;
  permissions: PermissionsService;
  auth: AuthService;
  auditor: AuditorService;
  /** How long views reuse an entity and a viewer's decisions (ViewerAccess); 0 asks every time. */
  readCacheMs: number;
  /** The `subjectPrefix` of the GitHub Actions `jwks` external access. */
  githubActionsSubjectPrefix: string;
  /** The subject contexts a GitHub Actions job may deploy from (`environment:production`). */
  githubActionsDeployContexts: string[];
  /** The release pipelines' rule for starts in a stage after the first. */
  pipelineGate?: StartRule;
}

/** A history row before its outcome is known. */
type HistoryRow = Omit<NewHistoryEvent, 'outcome' | 'message'>;

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

/**
 * The one path between the router and the engine, for views and actions alike, in the manner of
 * the catalog's `Authorized*` services: it locates the workload, checks that the cluster binds it
 * to the entity, authorizes the caller, acts, and writes the history row and the audit event. The
 * engine below knows nothing of permissions; the router above only parses.
 *
 * Who may act is decided against the workload, not only the entity: an entity is written by
 * whoever may register it, so its link to a workload counts only when the workload (or its
 * namespace) names the entity. A denial on a workload bound to another entity is written to that
 * entity's history as well, so its owners see the attempt.
 */
export class AuthorizedRollouts {
  private readonly viewers: ViewerAccess;

  constructor(private readonly options: AuthorizedRolloutsOptions) {
    this.viewers = new ViewerAccess({
      catalog: options.catalog,
      permissions: options.permissions,
      auth: options.auth,
      ttlMs: options.readCacheMs,
    });
  }

  /** Every workload of the entity in every cluster, with the actions this caller may take. */
  async views(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<RolloutView[]> {
    return (await this.entityViews(ref, credentials)).views;
  }

  /** The views and the entity they were read for (the release pipelines read its stages). */
  async entityViews(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<{ entity: Entity; views: RolloutView[] }> {
    const { entity, granted } = await this.viewers.resolve(ref, credentials);
    const allowed = this.restrictForCi(granted, credentials, entity);
    const views = (await this.options.engine.views(entity)).map(w =>
      this.withAllowed(w, allowed),
    );
    return { entity, views };
  }

  async history(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
    query: { cluster?: string; workload?: string; limit?: number },
  ): Promise<RolloutHistoryEvent[]> {
    const { entity } = await this.viewers.resolve(ref, credentials);
    return this.options.history.list({
      entityRef: stringifyEntityRef(entity),
      ...query,
    });
  }

  /**
   * Runs one start or action: audited (allowed, denied or failed alike, with its target),
   * permission- and binding-checked afresh, and recorded in the history.
   */
  async mutate(mutation: Mutation): Promise<RolloutView> {
    const { ref, credentials, action, body } = mutation;
    const { engine, auditor } = this.options;
    const actor = actorOf(credentials);
    const target = {
      action,
      actor,
      entityRef: stringifyEntityRef(ref).toLocaleLowerCase('en-US'),
      cluster: body.cluster,
      namespace: undefined as string | undefined,
      workload: body.workload,
      image: body.image,
      step: body.stepIndex,
      revision: body.revision,
      reason: body.reason,
    };
    const auditorEvent = await auditor.createEvent({
      eventId: action === 'start' ? 'rollout-start' : 'rollout-action',
      severityLevel: 'medium',
      request: mutation.request,
      meta: { ...target, ...(mutation.trigger && { trigger: mutation.trigger }) },
    });
    try {
      const entity = await this.entityOf(ref, credentials);
      target.entityRef = stringifyEntityRef(entity);
      const granted = await this.authorizeOn(entity, credentials, body.image);
      const located = await engine.locate(entity, body.cluster, body.workload);
      target.namespace = located.primary.metadata!.namespace!;
      target.workload = located.primary.metadata!.name!;
      const row: HistoryRow = {
        entityRef: target.entityRef,
        cluster: body.cluster,
        namespace: target.namespace,
        workload: target.workload,
        action,
        actor,
        reason: body.reason,
        image: body.image,
        stepIndex: body.stepIndex,
        revision: body.revision,
      };

      const refusal = this.refusalOf(
        action,
        granted,
        located,
        target.entityRef,
      );
      if (refusal) {
        await this.recordDenial(row, located, refusal);
        throw new NotAllowedError(refusal);
      }
      const held =
        action === 'start' &&
        (await this.options.pipelineGate?.startRefusal(
          entity,
          located,
          body.image!,
        ));
      if (held) {
        await this.record(row, { outcome: 'failed', message: held });
        throw new ConflictError(held);
      }

      // The row is dated when the action was asked for: the engine's own transitions that follow
      // from it (recorded while it acts) come after it in the history.
      const at = new Date();
      let result;
      try {
        result = await engine.act({
          entity,
          located,
          action,
          image: body.image,
          input: { reason: body.reason, toRevision: body.toRevision },
          expected: { stepIndex: body.stepIndex, revision: body.revision },
          actor,
        });
      } catch (error) {
        if (error instanceof NotAllowedError) {
          // The binding changed between the cached look and the fresh read.
          await this.recordDenial(row, located, error.message);
        } else {
          await this.record(row, {
            outcome: 'failed',
            message: (error as Error).message,
            at,
          });
        }
        throw error;
      }
      const { view } = result;
      await this.record(row, {
        outcome: 'succeeded',
        namespace: view.namespace,
        workload: view.workload,
        image:
          action === 'start'
            ? body.image
            : view.targetImage ?? view.stableImage,
        // An action is recorded at the step it was taken on; a start begins the new rollout's first.
        stepIndex: action === 'start' ? 0 : result.before.stepIndex,
        revision: view.revision,
        message: view.message,
        at,
      });
      await auditorEvent.success({
        meta: {
          ...target,
          image: action === 'start' ? body.image : result.before.image,
          step: result.before.stepIndex,
          revision: view.revision,
          phase: view.phase,
        },
      });
      return this.withAllowed(result, granted.allowed);
    } catch (error) {
      await auditorEvent.fail({ error: error as Error, meta: { ...target } });
      throw error;
    }
  }

  /** Why the caller may not do this here: the permission first, then the cluster's binding. */
  private refusalOf(
    action: AllowedAction,
    granted: {
      allowed: Set<AllowedAction>;
      refusals: Map<AllowedAction, string>;
    },
    located: LocatedWorkload,
    entityRef: string,
  ): string | undefined {
    if (!granted.allowed.has(action)) {
      return (
        granted.refusals.get(action) ??
        `You may not ${action} rollouts of ${entityRef}`
      );
    }
    return located.binding.status === 'bound'
      ? undefined
      : located.binding.message;
  }

  private withAllowed(
    { view, possible }: WorkloadView,
    granted: Set<AllowedAction>,
  ): RolloutView {
    return { ...view, allowedActions: possible.filter(a => granted.has(a)) };
  }

  /**
   * The entity, read afresh with the plugin's own credentials, when the caller may read it (the
   * catalog's read permission, decided for the caller like every other): a caller that may not
   * read it gets the catalog's answer, not found. Reading as the plugin keeps working for callers
   * whose token may reach the rollouts plugin only (access restrictions), which the catalog would
   * refuse to be called on behalf of.
   */
  private async entityOf(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<Entity> {
    const { catalog, permissions, auth } = this.options;
    const notFound = new NotFoundError(`No entity ${stringifyEntityRef(ref)}`);
    const entity = await catalog.getEntityByRef(ref, {
      credentials: await auth.getOwnServiceCredentials(),
    });
    if (!entity) throw notFound;
    const [read] = await permissions.authorize(
      [
        {
          permission: catalogEntityReadPermission,
          resourceRef: stringifyEntityRef(entity),
        },
      ],
      { credentials },
    );
    if (read.result !== AuthorizeResult.ALLOW) throw notFound;
    return entity;
  }

  /**
   * The actions the caller may take on the entity's rollouts, decided afresh in one batched
   * authorize, and the reason for a refusal where it is more than "not permitted".
   */
  private async authorizeOn(
    entity: Entity,
    credentials: BackstageCredentials,
    image?: string,
  ) {
    const resourceRef = stringifyEntityRef(entity);
    const decisions = await this.options.permissions.authorize(
      ACTING.map(a => ({ permission: permissionOf(a), resourceRef })),
      { credentials },
    );
    const granted = grantedActions(
      this.options.auth.isPrincipal(credentials, 'service'),
      (_action, i) => decisions[i].result === AuthorizeResult.ALLOW,
    );
    const refusals = new Map<AllowedAction, string>();
    const identity = githubActionsIdentityOf(
      credentials,
      this.options.githubActionsSubjectPrefix,
    );
    const ciRefusal =
      identity &&
      githubActionsRefusal(identity, entity, {
        image,
        deployContexts: this.options.githubActionsDeployContexts,
      });
    if (ciRefusal && granted.delete('start')) refusals.set('start', ciRefusal);
    return { allowed: granted, refusals };
  }

  /** A view's actions for a CI identity: `start` only on its own repository's entity. */
  private restrictForCi(
    granted: Set<AllowedAction>,
    credentials: BackstageCredentials,
    entity: Entity,
  ): Set<AllowedAction> {
    const identity = githubActionsIdentityOf(
      credentials,
      this.options.githubActionsSubjectPrefix,
    );
    const refusal =
      identity &&
      githubActionsRefusal(identity, entity, {
        deployContexts: this.options.githubActionsDeployContexts,
      });
    if (!refusal) return granted;
    return new Set([...granted].filter(a => a !== 'start'));
  }

  /** A denied row on the entity asked through and on each entity the workload is bound to. */
  private async recordDenial(
    row: HistoryRow,
    located: LocatedWorkload,
    message: string,
  ) {
    const asked = row.entityRef.toLocaleLowerCase('en-US');
    const bound = located.binding.entityRefs.filter(r => r !== asked);
    await this.record(row, { outcome: 'denied', message });
    for (const entityRef of bound) {
      await this.record(row, {
        entityRef,
        outcome: 'denied',
        message: `${message} (asked through ${row.entityRef})`,
      });
    }
  }

  private async record(
    row: HistoryRow,
    patch: Partial<NewHistoryEvent> & Pick<NewHistoryEvent, 'outcome'>,
  ) {
    await this.options.history.record({ ...row, ...patch });
  }
}
