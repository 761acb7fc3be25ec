import { V1ReplicaSet } from '@kubernetes/client-node';
import { patchesFor } from './patches';
import { ArgoRollout } from './types';

/** The requests of each action, as the kubectl-argo-rollouts plugin computes them. */

const now = new Date('2026-12-01T12:34:56.789Z');

function canary(
  status: ArgoRollout['status'],
  spec: Partial<ArgoRollout['spec']> = {},
): ArgoRollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', generation: 2 },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'web:2' }] },
      },
      strategy: {
        canary: {
          steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }],
        },
      },
      ...spec,
    },
    status: {
      currentPodHash: 'new',
      stableRS: 'old',
      observedGeneration: '2',
      ...status,
    },
  };
}

function rs(hash: string, revision: number, image: string): V1ReplicaSet {
  return {
    metadata: {
      name: `web-${hash}`,
      namespace: 'shop',
      labels: { app: 'web', 'rollouts-pod-template-hash': hash },
      annotations: { 'rollout.argoproj.io/revision': String(revision) },
      ownerReferences: [
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Rollout',
          name: 'web',
          uid: 'u1',
          controller: true,
        },
      ],
    },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: {
          labels: { app: 'web', 'rollouts-pod-template-hash': hash },
        },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

const sets = [rs('new', 2, 'web:2'), rs('old', 1, 'web:1')];

describe('patchesFor', () => {
  it('promote clears the pause conditions through the status subresource', () => {
    const ro = canary({
      currentStepIndex: 1,
      controllerPause: true,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 't' }],
    });
    expect(patchesFor(ro, 'promote', sets, { now })).toEqual([
      {
        target: 'status',
        body: { status: { pauseConditions: null } },
        fallback: {
          spec: { paused: false },
          status: { pauseConditions: null },
        },
      },
    ]);
  });

  it('promote after an inconclusive step analysis also unsets controllerPause and moves past the step', () => {
    const ro = canary({
      currentStepIndex: 2,
      controllerPause: true,
      pauseConditions: [{ reason: 'InconclusiveAnalysisRun', startTime: 't' }],
      canary: {
        currentStepAnalysisRunStatus: {
          name: 'web-abc-2',
          status: 'Inconclusive',
          message: 'Metric "success-rate" assessed Inconclusive',
        },
      },
    });
    expect(patchesFor(ro, 'promote', sets, { now })).toEqual([
      {
        target: 'status',
        body: {
          status: {
            pauseConditions: null,
            controllerPause: false,
            currentStepIndex: 3,
          },
        },
        fallback: {
          spec: { paused: false },
          status: { pauseConditions: null },
        },
      },
    ]);
    // Not inconclusive (a pause step): only the pause conditions are cleared, as before.
    const paused = canary({
      currentStepIndex: 2,
      controllerPause: true,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 't' }],
      canary: {
        currentStepAnalysisRunStatus: {
          name: 'web-abc-1',
          status: 'Successful',
        },
      },
    });
    expect(patchesFor(paused, 'promote', sets, { now })[0].body).toEqual({
      status: { pauseConditions: null },
    });
  });

  it('promote without a pause condition skips the current canary step', () => {
    const ro = canary({ currentStepIndex: 0 });
    expect(patchesFor(ro, 'promote', sets, { now })).toEqual([
      {
        target: 'status',
        body: { status: { pauseConditions: null, currentStepIndex: 1 } },
        fallback: {
          spec: { paused: false },
          status: { pauseConditions: null, currentStepIndex: 1 },
        },
      },
    ]);
  });

  it('promote of a manually paused rollout also unpauses its spec, after the status patch', () => {
    const ro = canary(
      {
        currentStepIndex: 1,
        pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 't' }],
      },
      { paused: true },
    );
    expect(patchesFor(ro, 'promote', sets, { now })).toEqual([
      expect.objectContaining({
        target: 'status',
        body: { status: { pauseConditions: null } },
      }),
      {
        target: 'rollout',
        body: { spec: { paused: false } },
        unlessFallback: true,
      },
    ]);
  });

  it('promote of a paused blue-green without pause conditions only unpauses', () => {
    const ro = canary(
      {},
      { paused: true, strategy: { blueGreen: { activeService: 'web' } } },
    );
    expect(patchesFor(ro, 'promote', sets, { now })).toEqual([
      {
        target: 'rollout',
        body: { spec: { paused: false } },
        unlessFallback: false,
      },
    ]);
  });

  it('promote-full, abort and retry are status patches; nothing to promote once stable', () => {
    const ro = canary({ currentStepIndex: 1 });
    expect(patchesFor(ro, 'promote-full', sets, { now })).toEqual([
      {
        target: 'status',
        body: { status: { promoteFull: true } },
        fallback: { status: { promoteFull: true } },
      },
    ]);
    expect(
      patchesFor(canary({ currentPodHash: 'old' }), 'promote-full', sets, {
        now,
      }),
    ).toEqual([]);
    expect(patchesFor(ro, 'abort', sets, { now })).toEqual([
      {
        target: 'status',
        body: { status: { abort: true } },
        fallback: { status: { abort: true } },
      },
    ]);
    expect(patchesFor(ro, 'retry', sets, { now })).toEqual([
      {
        target: 'status',
        body: { status: { abort: false } },
        fallback: { status: { abort: false } },
      },
    ]);
  });

  it('refuses an abort once promoteFull is set, which Argo would ignore (argo-rollouts#4461)', () => {
    expect(() =>
      patchesFor(canary({ promoteFull: true }), 'abort', sets, { now }),
    ).toThrow(/argo-rollouts#4461/);
  });

  it('pause, resume and restart patch the spec', () => {
    const ro = canary({});
    expect(patchesFor(ro, 'pause', sets, { now })).toEqual([
      { target: 'rollout', body: { spec: { paused: true } } },
    ]);
    expect(patchesFor(ro, 'resume', sets, { now })).toEqual([
      { target: 'rollout', body: { spec: { paused: false } } },
    ]);
    expect(patchesFor(ro, 'restart', sets, { now })).toEqual([
      {
        target: 'rollout',
        body: { spec: { restartAt: '2026-12-01T12:34:56Z' } },
      },
    ]);
  });

  it('undo replaces /spec/template with the previous ReplicaSet template, without its hash label', () => {
    expect(patchesFor(canary({}), 'rollback', sets, { now })).toEqual([
      {
        target: 'rollout-template',
        body: [
          {
            op: 'replace',
            path: '/spec/template',
            value: {
              metadata: { labels: { app: 'web' } },
              spec: { containers: [{ name: 'app', image: 'web:1' }] },
            },
          },
        ],
      },
    ]);
    // --to-revision, and nothing when the template already is that revision's
    expect(
      patchesFor(canary({}), 'rollback', sets, { now, toRevision: 2 }),
    ).toEqual([]);
    expect(() =>
      patchesFor(canary({}), 'rollback', sets, { now, toRevision: 7 }),
    ).toThrow(/revision 7/);
  });

  it('undo of a workloadRef Rollout patches the referenced Deployment', () => {
    const ro = canary(
      {},
      {
        template: undefined,
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      },
    );
    expect(patchesFor(ro, 'rollback', sets, { now })).toEqual([
      expect.objectContaining({
        target: 'workload-template',
        workload: { kind: 'Deployment', name: 'web' },
      }),
    ]);
  });
});
