import { KubeSim, startKubeSim } from '../index';

/**
 * The simulated Argo Rollouts controller, driven through the HTTP API with the very patches the
 * kubectl-argo-rollouts plugin sends (merge patches to the status subresource, a JSON patch of
 * /spec/template for undo).
 */

jest.setTimeout(30000);

const GV = 'argoproj.io/v1alpha1';
const BASE = `/apis/${GV}/namespaces/default/rollouts`;

function rollout(
  name: string,
  strategy: any,
  image = 'ghcr.io/acme/app:1.0.0',
) {
  return {
    apiVersion: GV,
    kind: 'Rollout',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
      strategy,
    },
  };
}

function service(name: string, app: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

describe('simulated Argo Rollouts controller', () => {
  let sim: KubeSim;

  beforeEach(async () => {
    sim = await startKubeSim({ timeScale: 0.02 });
  });
  afterEach(async () => {
    await sim.close();
  });

  const get = (name: string) => sim.control.get(GV, 'Rollout', 'default', name);

  async function patch(
    path: string,
    body: unknown,
    type = 'application/merge-patch+json',
  ) {
    const res = await fetch(`${sim.url}${path}`, {
      method: 'PATCH',
      headers: { 'Content-Type': type },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  async function waitPhase(
    name: string,
    phase: string,
    extra: (ro: any) => boolean = () => true,
  ) {
    await sim.control
      .waitFor(
        () => get(name)?.status?.phase === phase && extra(get(name)),
        10000,
      )
      .catch(e => {
        throw new Error(
          `${e.message}: ${name} is ${JSON.stringify(get(name)?.status)}`,
        );
      });
    return get(name);
  }

  const setImage = (name: string, image: string) =>
    patch(`${BASE}/${name}`, {
      spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
    });

  it('is served by discovery with its status and scale subresources', async () => {
    const res = await fetch(`${sim.url}/apis/${GV}`);
    const doc = await res.json();
    expect(doc.resources.map((r: any) => r.name)).toEqual([
      'rollouts',
      'rollouts/status',
      'rollouts/scale',
    ]);
    expect(doc.resources[0]).toMatchObject({
      kind: 'Rollout',
      namespaced: true,
      shortNames: ['ro'],
    });
    const groups = await (await fetch(`${sim.url}/apis`)).json();
    expect(groups.groups.map((g: any) => g.name)).toContain('argoproj.io');
  });

  it('walks canary steps, pauses with CanaryPauseStep, promotes, and records the patches', async () => {
    await sim.control.apply([
      rollout('web', {
        canary: {
          steps: [
            { setWeight: 25 },
            { pause: {} },
            { setWeight: 50 },
            { pause: { duration: '100s' } },
          ],
        },
      }),
    ]);
    const first = await waitPhase('web', 'Healthy');
    expect(first.status.stableRS).toBe(first.status.currentPodHash);
    expect(first.status.currentStepIndex).toBe(4);
    expect(first.status.observedGeneration).toBe('1');
    const rs = sim.control.list('apps/v1', 'ReplicaSet', 'default');
    expect(rs).toHaveLength(1);
    expect(rs[0].metadata.name).toBe(`web-${first.status.currentPodHash}`);
    expect(rs[0].metadata.labels['rollouts-pod-template-hash']).toBe(
      first.status.currentPodHash,
    );
    expect(rs[0].metadata.annotations['rollout.argoproj.io/revision']).toBe(
      '1',
    );
    expect(rs[0].metadata.ownerReferences[0]).toMatchObject({
      kind: 'Rollout',
      name: 'web',
    });

    await setImage('web', 'ghcr.io/acme/app:2.0.0');
    const paused = await waitPhase('web', 'Paused');
    expect(paused.status.message).toBe('CanaryPauseStep');
    expect(paused.status.currentStepIndex).toBe(1);
    expect(paused.status.controllerPause).toBe(true);
    expect(paused.status.pauseConditions).toEqual([
      { reason: 'CanaryPauseStep', startTime: expect.any(String) },
    ]);
    expect(paused.status.stableRS).toBe(first.status.currentPodHash);
    const canaryRs = sim.control.get(
      'apps/v1',
      'ReplicaSet',
      'default',
      `web-${paused.status.currentPodHash}`,
    );
    expect(canaryRs.spec.replicas).toBe(1);
    expect(canaryRs.metadata.annotations['rollout.argoproj.io/revision']).toBe(
      '2',
    );
    expect(paused.status.canary).toBeUndefined(); // no traffic router: no weights in status

    sim.control.resetWrites();
    await patch(`${BASE}/web/status`, { status: { pauseConditions: null } });
    expect(sim.control.writes('/rollouts/')).toEqual([
      {
        method: 'PATCH',
        path: `${BASE}/web/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { pauseConditions: null } },
        status: 200,
      },
    ]);
    const second = await waitPhase(
      'web',
      'Paused',
      ro => ro.status.currentStepIndex === 3,
    );
    expect(
      sim.control.get(
        'apps/v1',
        'ReplicaSet',
        'default',
        `web-${second.status.currentPodHash}`,
      ).spec.replicas,
    ).toBe(2);
    // the timed pause ends by itself, then the canary takes everything and becomes stable
    const done = await waitPhase('web', 'Healthy');
    expect(done.status.stableRS).toBe(second.status.currentPodHash);
    expect(
      sim.control.get(
        'apps/v1',
        'ReplicaSet',
        'default',
        `web-${first.status.currentPodHash}`,
      ).spec.replicas,
    ).toBe(0);
  });

  it('aborts back to stable, retries from the first step, promotes fully, and undoes by a JSON patch', async () => {
    await sim.control.apply([
      rollout('api', { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } }),
    ]);
    const first = await waitPhase('api', 'Healthy');
    await setImage('api', 'ghcr.io/acme/app:2.0.0');
    await waitPhase('api', 'Paused');
    await patch(`${BASE}/api/status`, { status: { abort: true } });
    const aborted = await waitPhase('api', 'Degraded');
    expect(aborted.status.message).toBe(
      'RolloutAborted: Rollout aborted update to revision 2',
    );
    expect(aborted.status.currentStepIndex).toBe(0);
    expect(aborted.status.abortedAt).toEqual(expect.any(String));
    await sim.control.waitFor(
      () =>
        sim.control.get(
          'apps/v1',
          'ReplicaSet',
          'default',
          `api-${aborted.status.currentPodHash}`,
        ).spec.replicas === 0,
    );

    await patch(`${BASE}/api/status`, { status: { abort: false } });
    await waitPhase('api', 'Paused', ro => ro.status.currentStepIndex === 1);

    await patch(`${BASE}/api/status`, { status: { promoteFull: true } });
    const full = await waitPhase('api', 'Healthy');
    expect(full.status.stableRS).toBe(full.status.currentPodHash);
    expect(full.status.promoteFull).toBeUndefined();

    const old = sim.control.get(
      'apps/v1',
      'ReplicaSet',
      'default',
      `api-${first.status.currentPodHash}`,
    );
    const template = structuredClone(old.spec.template);
    delete template.metadata.labels['rollouts-pod-template-hash'];
    await patch(
      `${BASE}/api`,
      [{ op: 'replace', path: '/spec/template', value: template }],
      'application/json-patch+json',
    );
    const undone = await waitPhase(
      'api',
      'Paused',
      ro => ro.status.currentPodHash === first.status.currentPodHash,
    );
    expect(undone.spec.template.spec.containers[0].image).toBe(
      'ghcr.io/acme/app:1.0.0',
    );
    expect(
      sim.control.get(
        'apps/v1',
        'ReplicaSet',
        'default',
        `api-${first.status.currentPodHash}`,
      ).metadata.annotations['rollout.argoproj.io/revision'],
    ).toBe('3');
  });

  it('blue-green: preview first, BlueGreenPause, active switched on promote', async () => {
    await sim.control.apply([
      service('shop', 'shop'),
      service('shop-preview', 'shop'),
      rollout('shop', {
        blueGreen: {
          activeService: 'shop',
          previewService: 'shop-preview',
          autoPromotionEnabled: false,
          scaleDownDelaySeconds: 100,
        },
      }),
    ]);
    const first = await waitPhase('shop', 'Healthy');
    const blue = first.status.currentPodHash;
    expect(first.status.blueGreen).toEqual({
      activeSelector: blue,
      previewSelector: blue,
    });
    expect(
      sim.control.get('v1', 'Service', 'default', 'shop').spec.selector,
    ).toEqual({
      app: 'shop',
      'rollouts-pod-template-hash': blue,
    });

    await setImage('shop', 'ghcr.io/acme/app:2.0.0');
    const paused = await waitPhase('shop', 'Paused');
    const green = paused.status.currentPodHash;
    expect(paused.status.message).toBe('BlueGreenPause');
    expect(paused.status.blueGreen).toEqual({
      activeSelector: blue,
      previewSelector: green,
    });
    expect(
      sim.control.get('v1', 'Service', 'default', 'shop-preview').spec.selector[
        'rollouts-pod-template-hash'
      ],
    ).toBe(green);
    expect(
      sim.control.get('v1', 'Service', 'default', 'shop').spec.selector[
        'rollouts-pod-template-hash'
      ],
    ).toBe(blue);

    await patch(`${BASE}/shop/status`, { status: { pauseConditions: null } });
    const promoted = await waitPhase(
      'shop',
      'Healthy',
      ro => ro.status.stableRS === green,
    );
    expect(promoted.status.blueGreen.activeSelector).toBe(green);
    expect(
      sim.control.get('v1', 'Service', 'default', 'shop').spec.selector[
        'rollouts-pod-template-hash'
      ],
    ).toBe(green);
    // the old ReplicaSet keeps running for the scale-down delay, then goes to zero
    expect(
      sim.control.get('apps/v1', 'ReplicaSet', 'default', `shop-${blue}`).spec
        .replicas,
    ).toBe(4);
    await sim.control.waitFor(
      () =>
        sim.control.get('apps/v1', 'ReplicaSet', 'default', `shop-${blue}`).spec
          .replicas === 0,
    );
  });

  it('writes only status through the status subresource and only spec through the main resource', async () => {
    await sim.control.apply([rollout('lone', { canary: {} })]);
    await waitPhase('lone', 'Healthy');
    const viaMain = await patch(`${BASE}/lone`, {
      spec: { paused: true },
      status: { abort: true },
    });
    expect(viaMain.spec.paused).toBe(true);
    expect(viaMain.status.abort).toBeUndefined();
    const viaStatus = await patch(`${BASE}/lone/status`, {
      spec: { paused: false },
      status: { abort: true },
    });
    expect(viaStatus.spec.paused).toBe(true);
    expect(viaStatus.status.abort).toBe(true);
    await waitPhase(
      'lone',
      'Paused',
      ro => ro.status.message === 'manually paused',
    );
  });
});
