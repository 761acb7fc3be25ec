import {
  AuditorService,
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  AllowedAction,
  ApprovalRequestedResponse,
  ApprovalView,
  RolloutAction,
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
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
import { StoredApproval } from '../database/ApprovalStore';
import { ReleaseGates, approvalView } from './gates/ReleaseGates';
import { authorizeFreezeOverride } from './gates/override';
import { callOwnBackend } from './unreachable';

/** What a start or an action asks for, as the router parsed it. */
export interface MutationBody {
  cluster: string;
  workload?: string;
  reason?: string;
  image?: string;
  revision?: number;
  stepIndex?: number;
  toRevision?: number;
  /** Act during a freeze window (needs `rollouts.freeze.override`). */
  override?: { reason: string };
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
  /** Set only by `approve`: the request this mutation carries out, and the approver's reason. */
  approval?: { request: StoredApproval; reason: string };
}

/** What a start or an action answers: the rollout, or the approval request it became (202). */
export type MutationResult = RolloutView | ApprovalRequestedResponse;

export function isApprovalRequested(
  result: MutationResult,
): result is ApprovalRequestedResponse {
  return 'approval' in result;
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
  /** Freeze windows and four-eyes approval (gates/), with the clock they are judged by. */
  gates: ReleaseGates;
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
    const views = await this.options.gates.decorate(
      entity,
      (
        await this.options.engine.views(entity)
      ).map(w => this.withAllowed(w, allowed)),
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
  async mutate(mutation: Mutation): Promise<MutationResult> {
    const { ref, credentials, action, body } = mutation;
    const approval = mutation.approval?.request;
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
      ...(approval
        ? { approvalId: approval.id, requestedBy: approval.requestedBy }
        : {}),
      ...(body.override ? { freezeOverride: body.override.reason } : {}),
    };
    const auditorEvent = await auditor.createEvent({
      eventId: action === 'start' ? 'rollout-start' : 'rollout-action',
      severityLevel: 'medium',
      request: mutation.request,
      meta: {
        ...target,
        ...(mutation.trigger && { trigger: mutation.trigger }),
      },
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

      // Freeze windows and four-eyes approval, after the permission and the binding, before acting.
      const gated = await this.passGates(mutation, entity, row);
      if (gated) {
        await auditorEvent.success({
          meta: { ...target, approvalId: gated.approval.id, pending: true },
        });
        return gated;
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
        // An approval whose action could not be taken stays pending for the owners to decide again.
        if (approval) await this.options.gates.reopen(approval);
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
        message: approval
          ? `${view.message} (approved request of ${approval.requestedBy})`
          : view.message,
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
      const [rollout] = await this.options.gates.decorate(entity, [
        this.withAllowed(result, granted.allowed),
      ]);
      return rollout;
    } catch (error) {
      await auditorEvent.fail({ error: error as Error, meta: { ...target } });
      throw error;
    }
  }

  /**
   * The gates of a start or promote: a freeze window refuses it (409) unless overridden by
   * someone the policy allows to (audited, in the history); on a protected target an owner's
   * request becomes a pending approval (returned), and an approved one is claimed here, once.
   */
  private async passGates(
    mutation: Mutation,
    entity: Entity,
    row: HistoryRow,
  ): Promise<ApprovalRequestedResponse | undefined> {
    const { gates } = this.options;
    const { action, body, credentials } = mutation;
    const where = { cluster: row.cluster, namespace: row.namespace };
    const freeze = gates.freezeOf(action, where);
    if (freeze) {
      const message = gates.freezeMessage(freeze, action, where);
      if (!body.override) {
        await this.record(row, { outcome: 'denied', message });
        throw new ConflictError(message);
      }
      const refusal = await authorizeFreezeOverride(
        this.options,
        entity,
        credentials,
        freeze,
      );
      await this.record(
        { ...row, action: 'freeze-override', reason: body.override.reason },
        {
          outcome: refusal ? 'denied' : 'succeeded',
          message:
            refusal ??
            `Overrode freeze window "${freeze.name}" (until ${freeze.end}) to ${action}`,
        },
      );
      if (refusal) throw new NotAllowedError(refusal);
    }
    if (mutation.approval) {
      const { request: approval, reason } = mutation.approval;
      if (
        approval.cluster !== row.cluster ||
        approval.namespace !== row.namespace ||
        approval.workload !== row.workload
      ) {
        throw new ConflictError(
          `Approval request ${approval.id} was for ${approval.cluster}/${approval.namespace}/${approval.workload}, but ${row.entityRef} now has ${row.cluster}/${row.namespace}/${row.workload} there; ask again`,
        );
      }
      // Claimed last, once every check passed: one approval, one action, even when two owners
      // approve at once; given back if the action then fails.
      await gates.decide(approval, 'approved', row.actor, reason);
      return undefined;
    }
    if (!gates.needsApproval(action, where)) return undefined;
    if (!body.reason?.trim()) {
      throw new InputError(
        `${action} on ${row.workload} in ${row.cluster} needs another owner's approval: give a reason for them`,
      );
    }
    const requested = await gates.request({
      entity,
      target: { ...where, workload: row.workload },
      action,
      image: body.image,
      input: {
        reason: body.reason,
        revision: body.revision,
        stepIndex: body.stepIndex,
      },
      requestedBy: row.actor,
    });
    await this.record(
      { ...row, action: 'request-approval' },
      {
        outcome: 'succeeded',
        message: `Asked another owner to approve ${action}${
          body.image ? ` of ${body.image}` : ''
        } (request ${requested.id}, expires ${requested.expiresAt})`,
      },
    );
    return { approval: approvalView(requested) };
  }

  /** Approvals of the entity's rollouts, newest first, for whoever may read the entity. */
  async approvals(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<ApprovalView[]> {
    const entity = await this.entityOf(ref, credentials);
    return (await this.options.gates.list(stringifyEntityRef(entity))).map(
      approvalView,
    );
  }

  /**
   * Another owner approves a pending request: the requested action is then taken through
   * `mutate` as the approver (permission, binding, freeze and revision guard checked again). The
   * requester is whoever the request's credentials were, and can never approve it.
   */
  async approve(decision: {
    id: string;
    credentials: BackstageCredentials;
    reason: string;
    override?: { reason: string };
    request: Request;
  }): Promise<{ approval: ApprovalView; rollout: RolloutView }> {
    return this.decideOn(decision, 'approved', async approval => {
      const result = await this.mutate({
        ref: parseEntityRef(approval.entityRef),
        credentials: decision.credentials,
        action: approval.action,
        approval: { request: approval, reason: decision.reason },
        request: decision.request,
        body: {
          cluster: approval.cluster,
          workload: approval.workload,
          image: approval.image,
          reason: approval.reason,
          revision: approval.input.revision,
          stepIndex: approval.input.stepIndex,
          override: decision.override,
        },
      });
      return result as RolloutView;
    });
  }

  /** An owner denies a pending request; the requester may withdraw their own the same way. */
  async deny(decision: {
    id: string;
    credentials: BackstageCredentials;
    reason: string;
    request: Request;
  }): Promise<{ approval: ApprovalView }> {
    const { approval } = await this.decideOn(decision, 'denied', async a => {
      await this.options.gates.decide(
        a,
        'denied',
        actorOf(decision.credentials),
        decision.reason,
      );
      return undefined;
    });
    return { approval };
  }

  /**
   * One decision on a request, audited with requester and decider: the request must exist and be
   * pending, the decider must be allowed the requested action on the entity (an owner), and must
   * not be the requester when approving.
   */
  private async decideOn<T>(
    decision: {
      id: string;
      credentials: BackstageCredentials;
      reason: string;
      request: Request;
    },
    status: 'approved' | 'denied',
    act: (approval: StoredApproval) => Promise<T>,
  ): Promise<{ approval: ApprovalView; rollout: T }> {
    const { gates, auditor } = this.options;
    const actor = actorOf(decision.credentials);
    const auditorEvent = await auditor.createEvent({
      eventId: 'rollout-approval',
      severityLevel: 'medium',
      request: decision.request,
      meta: {
        approvalId: decision.id,
        decision: status,
        actor,
        reason: decision.reason,
      },
    });
    try {
      const found = await gates.get(decision.id);
      const entity =
        found &&
        (await this.entityOf(
          parseEntityRef(found.entityRef),
          decision.credentials,
        ).catch(error => {
          // A request on an entity the caller may not read does not exist for them.
          if (error instanceof NotFoundError) return undefined;
          throw error;
        }));
      if (!found || !entity) {
        throw new NotFoundError(`No approval request ${decision.id}`);
      }
      const meta = {
        approvalId: found.id,
        decision: status,
        actor,
        reason: decision.reason,
        requestedBy: found.requestedBy,
        entityRef: found.entityRef,
        cluster: found.cluster,
        namespace: found.namespace,
        workload: found.workload,
        action: found.action,
        image: found.image,
      };
      const row: HistoryRow = {
        entityRef: found.entityRef,
        cluster: found.cluster,
        namespace: found.namespace,
        workload: found.workload,
        action: status === 'approved' ? 'approve' : 'deny',
        actor,
        reason: decision.reason,
        image: found.image,
        stepIndex: found.input.stepIndex,
        revision: found.input.revision,
      };
      try {
        if (found.status !== 'pending')
          throw new ConflictError(gates.undecidable(found));
        const own = found.requestedBy === actor;
        if (own && status === 'approved') {
          throw new NotAllowedError(
            `You asked for this ${found.action} yourself: another owner of ${found.entityRef} must approve it`,
          );
        }
        if (!own) {
          const granted = await this.authorizeOn(entity, decision.credentials);
          if (!granted.allowed.has(found.action)) {
            throw new NotAllowedError(
              `Only another owner of ${found.entityRef}, who may ${found.action} its rollouts, can decide on this request`,
            );
          }
        }
      } catch (error) {
        if (error instanceof NotAllowedError) {
          await this.record(row, { outcome: 'denied', message: error.message });
        }
        throw error;
      }
      // Dated before the action it allows, so the history reads "approved", then "start". One
      // millisecond before: the history orders by time, then by insertion, and this row is
      // written after the action's, which may fall in the same millisecond.
      const at = new Date(Date.now() - 1);
      const rollout = await act(found);
      const decided = (await gates.get(found.id)) ?? found;
      await this.record(row, {
        at,
        outcome: 'succeeded',
        message: `${status === 'approved' ? 'Approved' : 'Denied'} ${
          found.action
        }${found.image ? ` of ${found.image}` : ''} asked by ${
          found.requestedBy
        }`,
      });
      await auditorEvent.success({ meta });
      return { approval: approvalView(decided), rollout };
    } catch (error) {
      await auditorEvent.fail({ error: error as Error });
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
    const entity = await callOwnBackend('The catalog', async () =>
      catalog.getEntityByRef(ref, {
        credentials: await auth.getOwnServiceCredentials(),
      }),
    );
    if (!entity) throw notFound;
    const [read] = await callOwnBackend('The permission backend', () =>
      permissions.authorize(
        [
          {
            permission: catalogEntityReadPermission,
            resourceRef: stringifyEntityRef(entity),
          },
        ],
        { credentials },
      ),
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
    const decisions = await callOwnBackend('The permission backend', () =>
      this.options.permissions.authorize(
        ACTING.map(a => ({ permission: permissionOf(a), resourceRef })),
        { credentials },
      ),
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
