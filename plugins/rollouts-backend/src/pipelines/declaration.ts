import { Config } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import {
  PipelineStage,
  ROLLOUT_ENTITY_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../strategies/state';

const stageSchema = z
  .object({
    name: z.string().min(1).max(63).optional(),
    cluster: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63).optional(),
    soak: z.union([z.string(), z.number().nonnegative()]).optional(),
    promotion: z.enum(['auto', 'manual']).optional(),
  })
  .strict();

type DeclaredStage = z.infer<typeof stageSchema>;

const stagesSchema = z.array(stageSchema).min(1).max(20);

/** The portal's default order (`rollouts.pipelines.stages`), also the defaults per cluster. */
export interface PipelineDefaults {
  stages: PipelineStage[];
}

/** An entity's stages and where they come from; `error` when its annotation cannot be read. */
export type DeclaredPipeline =
  | { source: 'annotation' | 'config'; stages: PipelineStage[]; error?: never }
  | { source: 'annotation'; stages: []; error: string };

function issuesOf(error: z.ZodError) {
  return error.issues
    .map(i => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function toStages(
  declared: DeclaredStage[],
  inherit: (stage: DeclaredStage) => PipelineStage | undefined,
  what: string,
): PipelineStage[] {
  const stages = declared.map((d, i) => {
    const base = inherit(d);
    const soakMs =
      d.soak === undefined ? undefined : parseDuration(d.soak as string);
    if (d.soak !== undefined && soakMs === undefined) {
      throw new Error(
        `${what}: stage ${i + 1} has soak "${
          d.soak
        }", which is not a duration such as 10m`,
      );
    }
    return {
      name: d.name ?? (d.namespace ? `${d.cluster}/${d.namespace}` : d.cluster),
      cluster: d.cluster,
      ...(d.namespace ? { namespace: d.namespace } : {}),
      soakSeconds:
        soakMs === undefined
          ? base?.soakSeconds ?? 0
          : Math.round(soakMs / 1000),
      promotion: d.promotion ?? base?.promotion ?? 'manual',
    };
  });
  const names = new Set<string>();
  for (const s of stages) {
    if (names.has(s.name)) {
      throw new Error(`${what}: two stages are called "${s.name}"`);
    }
    names.add(s.name);
  }
  if (stages[0].promotion === 'auto') {
    // The first stage is started by a normal start; nothing comes before it to promote.
    stages[0] = { ...stages[0], promotion: 'manual' };
  }
  return stages;
}

/** Reads `rollouts.pipelines.stages`; a mistake there stops the backend with its reason. */
export function readPipelineDefaults(config: Config): PipelineDefaults {
  const raw = config.getOptional('rollouts.pipelines.stages');
  if (raw === undefined) return { stages: [] };
  const parsed = stagesSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `rollouts.pipelines.stages is not a list of stages: ${issuesOf(
        parsed.error,
      )}`,
    );
  }
  return {
    stages: toStages(parsed.data, () => undefined, 'rollouts.pipelines.stages'),
  };
}

/**
 * The entity's pipeline: its `rollouts.backstage.io/pipeline` annotation (YAML or JSON), whose
 * stages take the soak and promotion of the default order's stage for the same cluster where
 * they say none; else the portal's default order; else none (no stages).
 */
export function pipelineOf(
  entity: Entity,
  defaults: PipelineDefaults,
): DeclaredPipeline {
  const raw =
    entity.metadata.annotations?.[ROLLOUT_ENTITY_ANNOTATIONS.pipeline];
  if (raw === undefined) {
    return { source: 'config', stages: defaults.stages };
  }
  const what = `The ${ROLLOUT_ENTITY_ANNOTATIONS.pipeline} annotation`;
  try {
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch (e) {
      throw new Error(`${what} is not YAML or JSON: ${(e as Error).message}`);
    }
    const parsed = stagesSchema.safeParse(value);
    if (!parsed.success) {
      throw new Error(
        `${what} is not a list of stages: ${issuesOf(parsed.error)}`,
      );
    }
    const inherit = (d: DeclaredStage) =>
      defaults.stages.find(
        s =>
          s.cluster === d.cluster &&
          (s.namespace ?? '') === (d.namespace ?? ''),
      ) ?? defaults.stages.find(s => s.cluster === d.cluster && !s.namespace);
    return {
      source: 'annotation',
      stages: toStages(parsed.data, inherit, what),
    };
  } catch (e) {
    return { source: 'annotation', stages: [], error: (e as Error).message };
  }
}
