import { V1ReplicaSet } from '@kubernetes/client-node';
import { rolloutPhase } from './phase';
import { ArgoRollout } from './types';
import {
  PROMOTE_FULL_ABORT_WARNING,
  argoPhaseActions,
  argoRolloutView,
} from './view';

/**
 * Views read from objects shaped exactly like Argo Rollouts' types. The first two are recreated
 * from the facts of Argo's own documentation: the getting-started canary (`rollouts-demo`, 5
 * replicas, steps 20% / pause / 40% / 10 s / 60% / 10 s / 80% / 10 s, paused at its first pause
 * after the image went from `blue` to `yellow`, which `kubectl argo rollouts get` shows as
 * "Paused, CanaryPauseStep, Step 1/8, SetWeight 20, ActualWeight 20"), and the blue-green example
 * (`rollout-bluegreen`, active / preview Services, `autoPromotionEnabled: false`, 2 replicas).
 */

const UID = 'b6f0a0b6-0000-4000-8000-000000000001';

function replicaSet(
  hash: string,
  revision: number,
  image: string,
  replicas: number,
  available = replicas,
): V1ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `rollouts-demo-${hash}`,
      namespace: 'default',
      labels: { app: 'rollouts-demo', 'rollouts-pod-template-hash': hash },
      annotations: { 'rollout.argoproj.io/revision': String(revision) },
      ownerReferences: [
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Rollout',
          name: 'rollouts-demo',
          uid: UID,
          controller: true,
        },
      ],
    },
    spec: {
      replicas,
      selector: {
        matchLabels: {
          app: 'rollouts-demo',
          'rollouts-pod-template-hash': hash,
        },
      },
      template: {
        metadata: {
          labels: { app: 'rollouts-demo', 'rollouts-pod-template-hash': hash },
        },
        spec: { containers: [{ name: 'rollouts-demo', image }] },
      },
    },
    status: {
      replicas,
      readyReplicas: available,
      availableReplicas: available,
    },
  };
}

const STEPS = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 40 },
  { pause: { duration: 10 } },
  { setWeight: 60 },
  { pause: { duration: 10 } },
  { setWeight: 80 },
  { pause: { duration: 10 } },
];

function gettingStartedCanary(
  status: Partial<ArgoRollout['status']> = {},
): ArgoRollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'rollouts-demo',
      namespace: 'default',
      uid: UID,
      generation: 2,
      annotations: { 'rollout.argoproj.io/revision': '2' },
    },
    spec: {
      replicas: 5,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app: 'rollouts-demo' } },
      template: {
        metadata: { labels: { app: 'rollouts-demo' } },
        spec: {
          containers: [
            { name: 'rollouts-demo', image: 'argoproj/rollouts-demo:yellow' },
          ],
        },
      },
      strategy: { canary: { steps: STEPS } },
    } as ArgoRollout['spec'],
    status: {
      observedGeneration: '2',
      currentPodHash: '6cf78c66c5',
      stableRS: '687d76d795',
      currentStepIndex: 1,
      currentStepHash: '7f8b4f8c6d',
      controllerPause: true,
      pauseConditions: [
        { reason: 'CanaryPauseStep', startTime: '2026-12-01T10:00:00Z' },
      ],
      phase: 'Paused',
      message: 'CanaryPauseStep',
      replicas: 5,
      updatedReplicas: 1,
      readyReplicas: 5,
      availableReplicas: 5,
      conditions: [
        {
          type: 'Paused',
          status: 'True',
          reason: 'RolloutPaused',
          message: 'Rollout is paused',
          lastUpdateTime: '2026-12-01T10:00:00Z',
          lastTransitionTime: '2026-12-01T10:00:00Z',
        },
      ],
      ...status,
    },
  };
}

const canarySets = [
  replicaSet('6cf78c66c5', 2, 'argoproj/rollouts-demo:yellow', 1),
  replicaSet('687d76d795', 1, 'argoproj/rollouts-demo:blue', 4),
];

describe('argoRolloutView', () => {
  it('reads the getting-started canary paused at its first pause as Argo shows it', () => {
    const view = argoRolloutView(gettingStartedCanary(), canarySets);
    expect(view).toMatchObject({
      controller: 'argo-rollouts',
      namespace: 'default',
      workload: 'rollouts-demo',
      strategy: 'Canary',
      phase: 'Paused',
      message: 'CanaryPauseStep',
      step: { index: 1, total: 8 },
      weight: { desired: 20, actual: 20, method: 'replica-ratio' },
      stableImage: 'argoproj/rollouts-demo:blue',
      targetImage: 'argoproj/rollouts-demo:yellow',
      pause: { reason: 'CanaryPauseStep', since: '2026-12-01T10:00:00Z' },
      revision: 2,
    });
    expect(view.steps).toEqual(STEPS);
    expect(view.revisions).toEqual([
      {
        revision: 2,
        image: 'argoproj/rollouts-demo:yellow',
        role: 'canary',
        replicas: 1,
        ready: 1,
      },
      {
        revision: 1,
        image: 'argoproj/rollouts-demo:blue',
        role: 'stable',
        replicas: 4,
        ready: 4,
      },
    ]);
    expect(argoPhaseActions(gettingStartedCanary(), canarySets)).toEqual([
      'promote',
      'promote-full',
      'abort',
      'pause',
      'rollback',
      'restart',
    ]);
  });

  it('reports the analysis run of the current step as Argo does', () => {
    const ro = gettingStartedCanary({
      canary: {
        currentStepAnalysisRunStatus: {
          name: 'rollouts-demo-6cf78c66c5-2-1',
          status: 'Inconclusive',
          message: 'Metric "success-rate" assessed Inconclusive',
        },
      },
    });
    expect(argoRolloutView(ro, canarySets).analysis).toEqual({
      name: 'rollouts-demo-6cf78c66c5-2-1',
      phase: 'Inconclusive',
      message: 'Metric "success-rate" assessed Inconclusive',
    });
    expect(
      argoRolloutView(gettingStartedCanary(), canarySets).analysis,
    ).toBeUndefined();
  });

  it('takes the weight from status.canary.weights when a traffic router reports it', () => {
    const ro = gettingStartedCanary({
      canary: {
        weights: {
          canary: { podTemplateHash: '6cf78c66c5', weight: 15 },
          stable: { podTemplateHash: '687d76d795', weight: 85 },
        },
      },
    });
    ro.spec!.strategy!.canary!.trafficRouting = {
      nginx: { stableIngress: 'rollouts-demo' },
    };
    expect(argoRolloutView(ro, canarySets).weight).toEqual({
      desired: 20,
      actual: 15,
      method: 'traffic-router',
    });
  });

  it('shows an abort as Aborted with Argo message, and offers retry', () => {
    const ro = gettingStartedCanary({
      abort: true,
      abortedAt: '2026-12-01T10:05:00Z',
      currentStepIndex: 0,
      controllerPause: undefined,
      pauseConditions: undefined,
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
    });
    const sets = [
      replicaSet('6cf78c66c5', 2, 'argoproj/rollouts-demo:yellow', 0, 0),
      replicaSet('687d76d795', 1, 'argoproj/rollouts-demo:blue', 5),
    ];
    const view = argoRolloutView(ro, sets);
    expect(view).toMatchObject({
      phase: 'Aborted',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
      weight: { desired: 0, actual: 0 },
      step: { index: 0, total: 8 },
    });
    expect(argoPhaseActions(ro, sets)).toEqual([
      'retry',
      'rollback',
      'restart',
    ]);
  });

  it('warns that abort is ignored once promoteFull is set, and does not offer it (argo-rollouts#4461)', () => {
    const ro = gettingStartedCanary({
      promoteFull: true,
      pauseConditions: undefined,
      controllerPause: undefined,
      phase: 'Progressing',
      message: 'more replicas need to be updated',
    });
    expect(argoRolloutView(ro, canarySets).warning).toBe(
      PROMOTE_FULL_ABORT_WARNING,
    );
    expect(argoPhaseActions(ro, canarySets)).not.toContain('abort');
  });

  it('reads the blue-green example paused before promotion', () => {
    const hashes = { blue: '7d8f5b4c9', green: '5c6d7e8f9' };
    const ro: ArgoRollout = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: {
        name: 'rollout-bluegreen',
        namespace: 'default',
        uid: UID,
        generation: 2,
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'rollout-bluegreen' } },
        template: {
          metadata: { labels: { app: 'rollout-bluegreen' } },
          spec: {
            containers: [
              { name: 'rollouts-demo', image: 'argoproj/rollouts-demo:green' },
            ],
          },
        },
        strategy: {
          blueGreen: {
            activeService: 'rollout-bluegreen-active',
            previewService: 'rollout-bluegreen-preview',
            autoPromotionEnabled: false,
          },
        },
      },
      status: {
        observedGeneration: '2',
        currentPodHash: hashes.green,
        stableRS: hashes.blue,
        controllerPause: true,
        pauseConditions: [
          { reason: 'BlueGreenPause', startTime: '2026-12-01T11:00:00Z' },
        ],
        blueGreen: {
          activeSelector: hashes.blue,
          previewSelector: hashes.green,
        },
        phase: 'Paused',
        message: 'BlueGreenPause',
        replicas: 4,
        updatedReplicas: 2,
        readyReplicas: 4,
        availableReplicas: 4,
      },
    };
    const sets = [
      replicaSet(hashes.green, 2, 'argoproj/rollouts-demo:green', 2),
      replicaSet(hashes.blue, 1, 'argoproj/rollouts-demo:blue', 2),
    ];
    const view = argoRolloutView(ro, sets);
    expect(view).toMatchObject({
      strategy: 'BlueGreen',
      phase: 'Paused',
      message: 'BlueGreenPause',
      step: { index: 0, total: 2 },
      weight: { desired: 0, actual: 0, method: 'service-switch' },
      stableImage: 'argoproj/rollouts-demo:blue',
      targetImage: 'argoproj/rollouts-demo:green',
      pause: { reason: 'BlueGreenPause', since: '2026-12-01T11:00:00Z' },
    });
    expect(view.revisions.map(r => [r.revision, r.role])).toEqual([
      [2, 'preview'],
      [1, 'active'],
    ]);
  });
});

describe('rolloutPhase (GetRolloutPhase)', () => {
  it('is Progressing while the controller has not observed the spec', () => {
    const ro = gettingStartedCanary({ observedGeneration: '1' });
    expect(rolloutPhase(ro)).toEqual({
      phase: 'Progressing',
      message: 'waiting for rollout spec update to be observed',
    });
  });

  it('counts an old hash-style observedGeneration as observed', () => {
    const ro = gettingStartedCanary({ observedGeneration: '7d5f9c6b8' });
    expect(rolloutPhase(ro).phase).toBe('Paused');
  });

  it('is Progressing while a client cleared the pause the controller still holds', () => {
    const ro = gettingStartedCanary({ pauseConditions: null });
    expect(rolloutPhase(ro)).toEqual({
      phase: 'Progressing',
      message: 'waiting for rollout to unpause',
    });
  });

  it('computes the phase for controllers older than 1.0 (no status.phase)', () => {
    const base = { phase: undefined, message: undefined };
    expect(rolloutPhase(gettingStartedCanary(base))).toEqual({
      phase: 'Paused',
      message: 'CanaryPauseStep',
    });
    expect(
      rolloutPhase(
        gettingStartedCanary({
          ...base,
          controllerPause: false,
          pauseConditions: [],
        }),
      ),
    ).toEqual({
      phase: 'Progressing',
      message: 'more replicas need to be updated',
    });
    expect(
      rolloutPhase(
        gettingStartedCanary({
          ...base,
          controllerPause: false,
          pauseConditions: [],
          currentPodHash: '687d76d795',
          updatedReplicas: 5,
        }),
      ),
    ).toEqual({ phase: 'Healthy', message: '' });
    expect(
      rolloutPhase(
        gettingStartedCanary({
          ...base,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'RolloutAborted',
              message: 'Rollout aborted update to revision 2',
            },
          ],
        }),
      ),
    ).toEqual({
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
    });
  });
});
