import { ClusterCache } from '../cache/ClusterCache';
import { ArgoRolloutsClient } from './ArgoRolloutsClient';
import { patchesFor } from './patches';
import { ArgoRollout } from './types';

/**
 * A cluster whose Rollout CRD has no status subresource (Argo Rollouts before v0.10) answers 404 to
 * `/status`: the plugin then sends its unified patch to the main resource, and no separate spec patch.
 */

const ro: ArgoRollout = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
  spec: { paused: true, strategy: { canary: { steps: [{ pause: {} }] } } },
  status: {
    currentPodHash: 'new',
    stableRS: 'old',
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: 't' }],
  },
};

function cluster(statusAnswer: 'ok' | 'not-found') {
  const sent: Array<{ to: string; body: unknown }> = [];
  const custom = {
    patchNamespacedCustomObjectStatus: jest.fn(
      async (req: { body: unknown }) => {
        if (statusAnswer === 'not-found')
          throw Object.assign(new Error('not found'), { code: 404 });
        sent.push({ to: 'status', body: req.body });
        return ro;
      },
    ),
    patchNamespacedCustomObject: jest.fn(async (req: { body: unknown }) => {
      sent.push({ to: 'rollout', body: req.body });
      return ro;
    }),
  };
  const cache = {
    custom,
    rollouts: { observe: () => {} },
  } as unknown as ClusterCache;
  return { client: new ArgoRolloutsClient(cache), sent };
}

describe('ArgoRolloutsClient', () => {
  const patches = patchesFor(ro, 'promote', [], { now: new Date() });

  it('patches status first, then the spec', async () => {
    const { client, sent } = cluster('ok');
    await client.send(ro, patches);
    expect(sent).toEqual([
      { to: 'status', body: { status: { pauseConditions: null } } },
      { to: 'rollout', body: { spec: { paused: false } } },
    ]);
  });

  it('falls back to one unified patch of the main resource when /status is not served', async () => {
    const { client, sent } = cluster('not-found');
    await client.send(ro, patches);
    expect(sent).toEqual([
      {
        to: 'rollout',
        body: { spec: { paused: false }, status: { pauseConditions: null } },
      },
    ]);
  });
});
