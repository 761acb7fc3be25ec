import {
  AuthService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  Entity,
  getCompoundEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  KUBERNETES_ID_ANNOTATION,
  PipelineStageView,
  PipelineView,
  PipelineWait,
  PromoteReleaseRequest,
  ROLLOUT_ENTITY_ANNOTATIONS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { Request } from 'express';
import { AuthorizedRollouts } from '../service/AuthorizedRollouts';
import { PipelineGate, ResolvedStage } from './PipelineGate';
import { readinessOf } from './readiness';
import { sameRelease } from './release';

export interface ReleasePipelinesOptions {
  rollouts: AuthorizedRollouts;
  /** Whether a start on a target needs another owner's approval (the gates' rules). */
  approvals?: {
    needsApproval(
      action: 'start',
      target: { cluster: string; namespace: string },
    ): boolean;
  };
  gate: PipelineGate;
  catalog: CatalogService;
  auth: AuthService;
  logger?: LoggerService;
}

/** The image a stage runs, or is rolling out. */
function releaseOf(view?: RolloutView) {
  return view ? view.targetImage ?? view.stableImage : undefined;
}

/** Whether a stage already runs (or is rolling out) the release. */
function hasRelease(view: RolloutView | undefined, image: string) {
  return (
    sameRelease(view?.targetImage, image) ||
    (!view?.targetImage && sameRelease(view?.stableImage, image))
  );
}

/**
 * Release pipelines: which release is where, and starting the previous stage's release in the next
 * stage, by a person (`promote`) or by the pipeline itself (`promoteAutomatically`). Both go
 * through AuthorizedRollouts' one start path, where the pipeline's rule (PipelineGate), the
 * permission and the cluster's binding are checked like for any start.
 */
export class ReleasePipelines {
  constructor(private readonly options: ReleasePipelinesOptions) {}

  async view(
    ref: CompoundEntityRef,
    credentials: BackstageCredentials,
  ): Promise<PipelineView> {
    const { entity, views } = await this.options.rollouts.entityViews(
      ref,
      credentials,
    );
    const { declared, stages } = await this.options.gate.resolve(entity, views);
    const now = this.options.gate.now();
    return {
      entityRef: stringifyEntityRef(entity),
      source: declared.source,
      stages: stages.map((s, i) => this.stageView(s, stages[i - 1], now)),
      ...(declared.error ? { error: declared.error } : {}),
    };
  }

  private stageView(
    current: ResolvedStage<RolloutView>,
    previous: ResolvedStage<RolloutView> | undefined,
    now: Date,
  ): PipelineStageView {
    const { stage, view, completed } = current;
    const image = releaseOf(view);
    const healthySince =
      view?.phase === 'Healthy' &&
      !view.targetImage &&
      completed &&
      sameRelease(completed.image, image)
        ? completed.at.toISOString()
        : undefined;
    const result: PipelineStageView = {
      ...stage,
      workload: view?.workload,
      release:
        view && image
          ? { image, phase: view.phase, since: healthySince ?? view.updatedAt }
          : undefined,
      waitingFor: [],
      canPromote: false,
    };
    const candidate = releaseOf(previous?.view);
    if (!previous || !candidate) return result;
    result.candidate = candidate;
    if (hasRelease(view, candidate)) return result;
    const waits: PipelineWait[] = [];
    const readiness = readinessOf(
      this.options.gate.previousOf(previous),
      candidate,
      now,
    );
    if (!readiness.ready) waits.push(readiness.wait);
    if (!view) {
      waits.push({
        kind: 'permission',
        message: `The entity has no workload in ${stage.name}`,
      });
    } else if (view.freeze?.active) {
      waits.push({
        kind: 'freeze',
        message: `Freeze window "${view.freeze.name}" until ${view.freeze.end}: ${view.freeze.message}`,
        until: view.freeze.end,
      });
    } else if (view.pendingApproval) {
      waits.push({
        kind: 'approval',
        message: `${view.pendingApproval.requestedBy} asked to start ${
          view.pendingApproval.image ?? 'a release'
        } here; waiting for another owner's approval (expires ${
          view.pendingApproval.expiresAt
        })`,
      });
    } else if (!view.allowedActions.includes('start')) {
      waits.push({
        kind: 'permission',
        message:
          view.binding.status === 'bound'
            ? `You may not start rollouts in ${stage.name}`
            : view.binding.message ??
              `The workload in ${stage.name} is read-only here`,
      });
    }
    result.waitingFor = waits;
    result.canPromote = waits.length === 0;
    if (
      view &&
      this.options.approvals?.needsApproval('start', {
        cluster: view.cluster,
        namespace: view.namespace,
      })
    ) {
      result.approvalRequired = true;
    }
    return result;
  }

  /**
   * Starts the previous stage's release in `stage`, for the caller, through the one start path.
   * The image the caller saw guards against a previous stage that moved on since.
   */
  async promote(options: {
    ref: CompoundEntityRef;
    credentials: BackstageCredentials;
    body: PromoteReleaseRequest;
    request?: Request;
    trigger?: 'pipeline';
  }) {
    const { ref, credentials, body } = options;
    const { entity, views } = await this.options.rollouts.entityViews(
      ref,
      credentials,
    );
    const { declared, stages } = await this.options.gate.resolve(entity, views);
    if (declared.error) throw new ConflictError(declared.error);
    const index = stages.findIndex(s => s.stage.name === body.stage);
    if (index < 0) {
      throw new NotFoundError(
        `${stringifyEntityRef(entity)} has no pipeline stage "${body.stage}"${
          stages.length
            ? ` (its stages: ${stages.map(s => s.stage.name).join(', ')})`
            : ''
        }`,
      );
    }
    const target = stages[index];
    if (index === 0) {
      throw new InputError(
        `${target.stage.name} is the pipeline's first stage: a release starts there with a normal start`,
      );
    }
    const previous = stages[index - 1];
    const candidate = releaseOf(previous.view);
    if (!candidate) {
      throw new ConflictError(
        `${previous.stage.name} has no release to promote to ${target.stage.name}`,
      );
    }
    if (body.image && !sameRelease(body.image, candidate)) {
      throw new ConflictError(
        `${previous.stage.name} moved on: it has ${candidate} now, not ${body.image}`,
      );
    }
    if (!target.view) {
      throw new NotFoundError(
        `${stringifyEntityRef(entity)} has no workload in ${target.stage.name}`,
      );
    }
    return this.options.rollouts.mutate({
      ref: getCompoundEntityRef(entity),
      credentials,
      action: 'start',
      body: {
        cluster: target.stage.cluster,
        workload: target.view.workload,
        image: candidate,
        reason:
          body.reason ??
          `Promoted from ${previous.stage.name} to ${target.stage.name}`,
      },
      request: options.request,
      trigger: options.trigger,
    });
  }

  /**
   * One pass of automatic promotion (a scheduled task with global scope): every stage that says
   * `auto` gets the previous stage's release once it has soaked. It acts as the rollouts plugin
   * itself (its own service credentials: no person asked; the stage's declaration did), through
   * the same start path and its binding check, with the reason naming the pipeline, and the audit
   * event's `trigger: pipeline`; on a protected stage that start becomes an approval request for
   * the entity's owners, like anyone's. A release is started (or asked for) automatically once per
   * stage: a failed, refused or denied attempt is left to people, not retried on every pass.
   */
  async promoteAutomatically(): Promise<void> {
    const { catalog, auth, logger, gate } = this.options;
    const credentials = await auth.getOwnServiceCredentials();
    const filter = [
      {
        [`metadata.annotations.${ROLLOUT_ENTITY_ANNOTATIONS.pipeline}`]:
          CATALOG_FILTER_EXISTS,
      },
    ];
    // The portal's default order may promote entities that do not declare a pipeline.
    if (gate.defaultsPromoteAutomatically()) {
      filter.push({
        [`metadata.annotations.${KUBERNETES_ID_ANNOTATION}`]:
          CATALOG_FILTER_EXISTS,
      });
    }
    const { items } = await catalog.getEntities({ filter }, { credentials });
    for (const entity of items) {
      try {
        await this.promoteEntity(entity, credentials);
      } catch (e) {
        logger?.warn(
          `Automatic promotion of ${stringifyEntityRef(entity)} failed: ${e}`,
        );
      }
    }
  }

  private async promoteEntity(
    entity: Entity,
    credentials: BackstageCredentials,
  ) {
    const { gate } = this.options;
    if (!gate.declared(entity).stages.some(s => s.promotion === 'auto')) return;
    const ref = getCompoundEntityRef(entity);
    const { views } = await this.options.rollouts.entityViews(ref, credentials);
    const { stages } = await gate.resolve(entity, views);
    const now = gate.now();
    for (let i = 1; i < stages.length; i++) {
      const { stage, view } = stages[i];
      const previous = stages[i - 1];
      const candidate = releaseOf(previous.view);
      if (stage.promotion !== 'auto' || !view || !candidate) continue;
      if (hasRelease(view, candidate)) continue;
      // A freeze holds it, and a request already waits for an owner: nothing to ask again.
      if (view.freeze?.active || view.pendingApproval) continue;
      const readiness = readinessOf(gate.previousOf(previous), candidate, now);
      if (!readiness.ready) continue;
      if (await gate.startedBefore(entity, view, candidate, readiness.since)) {
        continue;
      }
      await this.promote({
        ref,
        credentials,
        body: {
          stage: stage.name,
          image: candidate,
          reason: `Automatic promotion by the pipeline: ${candidate} Healthy in ${
            previous.stage.name
          } since ${readiness.since.toISOString()} (soak ${
            previous.stage.soakSeconds
          }s)`,
        },
        trigger: 'pipeline',
      });
    }
  }
}
