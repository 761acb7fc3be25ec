import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  PipelineStage,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { RolloutHistoryStore } from '../database/RolloutHistoryStore';
import { LocatedWorkload, RolloutEngine } from '../engine/RolloutEngine';
import { DeclaredPipeline, PipelineDefaults, pipelineOf } from './declaration';
import { CompletedRollout, PreviousStage, readinessOf } from './readiness';

type StageWorkloadView = Omit<RolloutView, 'allowedActions'> &
  Partial<Pick<RolloutView, 'allowedActions'>>;

/** A declared stage with the entity's workload there, as the caches show it now. */
export interface ResolvedStage<
  V extends StageWorkloadView = StageWorkloadView,
> {
  stage: PipelineStage;
  view?: V;
  completed?: CompletedRollout;
}

export interface PipelineGateOptions {
  engine: RolloutEngine;
  history: RolloutHistoryStore;
  defaults: PipelineDefaults;
  now?: () => Date;
}

function inStage(stage: PipelineStage, cluster: string, namespace: string) {
  return (
    stage.cluster === cluster &&
    (!stage.namespace || stage.namespace === namespace)
  );
}

/**
 * The pipeline's rule for the start path: a start in a stage after the first is held until the
 * previous stage has been Healthy on that same release for its soak time. AuthorizedRollouts asks
 * it on every start (a person's, CI's, or the pipeline's own promotion), after the permission
 * and binding checks; so no door into a later stage skips the earlier ones.
 */
export class PipelineGate {
  readonly now: () => Date;

  constructor(private readonly options: PipelineGateOptions) {
    this.now = options.now ?? (() => new Date());
  }

  defaultsPromoteAutomatically(): boolean {
    return this.options.defaults.stages.some(s => s.promotion === 'auto');
  }

  declared(entity: Entity): DeclaredPipeline {
    return pipelineOf(entity, this.options.defaults);
  }

  /**
   * The entity's stages with its workload in each. The portal's default order is a default for
   * every entity: a stage where the entity has no workload is not one of its stages (a service
   * that lives only in production has nothing to soak in staging). The entity's own annotation is
   * taken as written.
   */
  async resolve<V extends StageWorkloadView>(
    entity: Entity,
    views: V[],
  ): Promise<{ declared: DeclaredPipeline; stages: ResolvedStage<V>[] }> {
    const declared = this.declared(entity);
    const stages: ResolvedStage<V>[] = [];
    for (const stage of declared.stages) {
      const view = views.find(v => inStage(stage, v.cluster, v.namespace));
      if (!view && declared.source === 'config') continue;
      stages.push({
        stage,
        view,
        completed: view && (await this.lastCompleted(entity, view)),
      });
    }
    return { declared, stages };
  }

  /** Why a start of `image` on this workload must wait, or undefined when it may go ahead. */
  async startRefusal(
    entity: Entity,
    located: LocatedWorkload,
    image: string,
  ): Promise<string | undefined> {
    const declared = this.declared(entity);
    if (declared.error) {
      return `${declared.error}; starts are held until the pipeline can be read`;
    }
    const cluster = located.handle.cluster.name;
    const namespace = located.primary.metadata!.namespace!;
    if (!declared.stages.some(s => inStage(s, cluster, namespace)))
      return undefined;
    const views = (await this.options.engine.views(entity)).map(w => w.view);
    const { stages } = await this.resolve(entity, views);
    const index = stages.findIndex(s => inStage(s.stage, cluster, namespace));
    if (index <= 0) return undefined;
    const previous = stages[index - 1];
    const readiness = readinessOf(this.previousOf(previous), image, this.now());
    if (readiness.ready) return undefined;
    return `Cannot start ${image} in ${stages[index].stage.name}: ${readiness.wait.message}`;
  }

  previousOf(resolved: ResolvedStage): PreviousStage {
    return {
      name: resolved.stage.name,
      soakSeconds: resolved.stage.soakSeconds,
      view: resolved.view,
      completed: resolved.completed,
    };
  }

  /** Whether the pipeline already started `image` on this workload (auto-promotion tries once). */
  async startedBefore(
    entity: Entity,
    view: StageWorkloadView,
    image: string,
    after: Date,
  ): Promise<boolean> {
    const rows = await this.rowsOf(entity, view);
    return rows.some(
      r =>
        (r.action === 'start' || r.action === 'request-approval') &&
        r.image === image &&
        new Date(r.createdAt).getTime() >= after.getTime(),
    );
  }

  private async rowsOf(entity: Entity, view: StageWorkloadView) {
    const rows = await this.options.history.list({
      entityRef: stringifyEntityRef(entity),
      cluster: view.cluster,
      workload: view.workload,
      limit: 200,
    });
    return rows.filter(r => r.namespace === view.namespace);
  }

  /** The engine's latest `completed` event of the workload (the history is newest first). */
  private async lastCompleted(
    entity: Entity,
    view: StageWorkloadView,
  ): Promise<CompletedRollout | undefined> {
    const row = (await this.rowsOf(entity, view)).find(
      r => r.action === 'completed' && r.outcome === 'succeeded' && r.image,
    );
    return row ? { image: row.image!, at: new Date(row.createdAt) } : undefined;
  }
}
