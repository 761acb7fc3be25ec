import { KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';

/**
 * The parts of Argo Rollouts' `argoproj.io/v1alpha1` Rollout the engine reads, named and shaped
 * as in Argo's API types (pkg/apis/rollouts/v1alpha1). Everything is optional: a cluster may run
 * any Argo Rollouts version, and the engine only reads what the controller wrote.
 */

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';
export const ARGO_PLURAL = 'rollouts';
/** Argo's label on ReplicaSets, pods and Service selectors (`DefaultRolloutUniqueLabelKey`). */
export const ROLLOUT_POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';
/** Argo's revision annotation on the Rollout and its ReplicaSets. */
export const ROLLOUT_REVISION = 'rollout.argoproj.io/revision';

export type ArgoCanaryStep = {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: unknown;
  experiment?: unknown;
  setCanaryScale?: unknown;
  setHeaderRoute?: unknown;
  setMirrorRoute?: unknown;
  plugin?: unknown;
};

export interface ArgoPauseCondition {
  reason: string;
  startTime: string;
}

export interface ArgoCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface ArgoRolloutSpec {
  replicas?: number;
  revisionHistoryLimit?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: V1PodTemplateSpec;
  workloadRef?: { apiVersion?: string; kind?: string; name?: string };
  paused?: boolean;
  restartAt?: string;
  strategy?: {
    canary?: {
      steps?: ArgoCanaryStep[];
      trafficRouting?: Record<string, unknown>;
      canaryService?: string;
      stableService?: string;
    };
    blueGreen?: {
      activeService?: string;
      previewService?: string;
      autoPromotionEnabled?: boolean;
      scaleDownDelaySeconds?: number;
      postPromotionAnalysis?: unknown;
    };
  };
}

export interface ArgoRolloutStatus {
  abort?: boolean;
  abortedAt?: string;
  pauseConditions?: ArgoPauseCondition[] | null;
  controllerPause?: boolean;
  promoteFull?: boolean;
  currentPodHash?: string;
  currentStepHash?: string;
  currentStepIndex?: number;
  stableRS?: string;
  /** A string since Argo Rollouts v0.10 (a hash before). */
  observedGeneration?: string;
  phase?: string;
  message?: string;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  restartedAt?: string;
  workloadObservedGeneration?: string;
  conditions?: ArgoCondition[];
  canary?: {
    weights?: {
      canary?: { podTemplateHash?: string; weight?: number };
      stable?: { podTemplateHash?: string; weight?: number };
    };
    currentStepAnalysisRunStatus?: {
      name?: string;
      status?: string;
      message?: string;
    };
  };
  blueGreen?: {
    activeSelector?: string;
    previewSelector?: string;
    prePromotionAnalysisRunStatus?: {
      name?: string;
      status?: string;
      message?: string;
    };
    postPromotionAnalysisRunStatus?: {
      name?: string;
      status?: string;
      message?: string;
    };
  };
}

export interface ArgoRollout extends KubernetesObject {
  spec?: ArgoRolloutSpec;
  status?: ArgoRolloutStatus;
}
