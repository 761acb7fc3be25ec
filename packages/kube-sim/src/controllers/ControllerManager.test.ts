import { KubeSim, startKubeSim } from '../index';

/**
 * The controllers react to the keys a change affects and to the due times they schedule, with no
 * steady pass over everything: these cases need a reaction to one change (or to time alone) that
 * no other object's change would trigger.
 */

const TIME_SCALE = 0.05;

jest.setTimeout(20000);

function deployment(name: string, image: string, spec: any = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
      ...spec,
    },
  };
}

function service(name: string, selector: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

describe('ControllerManager', () => {
  let sim: KubeSim;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: TIME_SCALE });
  });

  afterAll(async () => {
    await sim.close();
  });

  const del = async (path: string) => {
    const res = await fetch(`${sim.url}${path}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
  };
  const pods = (app: string) =>
    sim.control.list('v1', 'Pod', 'default', `app=${app}`);
  const getDeployment = (name: string) =>
    sim.control.get('apps/v1', 'Deployment', 'default', name);

  it('turns one pod unready when its readiness probe fails, and the ReplicaSet, Deployment and Endpoints follow; then back', async () => {
    const probed = deployment('probed', 'ghcr.io/acme/app:1.0.0');
    probed.spec.template.spec.containers[0] = {
      ...probed.spec.template.spec.containers[0],
      readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    } as any;
    await sim.control.apply([probed, service('probed', { app: 'probed' })]);
    await sim.control.waitFor(
      () => getDeployment('probed')?.status?.readyReplicas === 2,
      5000,
    );
    const [victim, other] = pods('probed');
    const ready = (name: string) =>
      sim.control
        .get('v1', 'Pod', 'default', name)
        .status.conditions.find((c: any) => c.type === 'Ready').status;
    const endpoints = () =>
      sim.control.get('v1', 'Endpoints', 'default', 'probed').subsets?.[0] ??
      {};

    sim.control.setReadinessFailing('default', victim.metadata.name, true);
    await sim.control.waitFor(
      () =>
        getDeployment('probed').status.readyReplicas === 1 &&
        (endpoints().notReadyAddresses ?? []).length === 1,
      5000,
    );
    const unready = sim.control.get(
      'v1',
      'Pod',
      'default',
      victim.metadata.name,
    );
    expect(ready(victim.metadata.name)).toBe('False');
    expect(unready.status.phase).toBe('Running');
    expect(unready.status.containerStatuses[0].ready).toBe(false);
    expect(ready(other.metadata.name)).toBe('True');
    expect(endpoints().notReadyAddresses[0].targetRef.name).toBe(
      victim.metadata.name,
    );
    const rs = sim.control.list(
      'apps/v1',
      'ReplicaSet',
      'default',
      'app=probed',
    );
    expect(rs[0].status.readyReplicas).toBe(1);
    const warnings = sim.control
      .list('v1', 'Event', 'default')
      .filter(
        (e: any) =>
          e.reason === 'Unhealthy' &&
          e.involvedObject.name === victim.metadata.name,
      );
    expect(warnings).toHaveLength(1);

    sim.control.setReadinessFailing('default', victim.metadata.name, false);
    await sim.control.waitFor(
      () => getDeployment('probed').status.readyReplicas === 2,
      5000,
    );
    expect(ready(victim.metadata.name)).toBe('True');
    expect(() =>
      sim.control.setReadinessFailing('default', 'no-such-pod', true),
    ).toThrow(/no pod default\/no-such-pod/);
  });

  it('makes pods available only minReadySeconds after they are ready, with no other change', async () => {
    // 10 simulated seconds = 500 ms: long enough to see ready-but-not-available.
    await sim.control.apply([
      deployment('min-ready', 'ghcr.io/acme/app:1.0.0', {
        minReadySeconds: 10,
      }),
    ]);
    await sim.control.waitFor(
      () => getDeployment('min-ready')?.status?.readyReplicas === 2,
      5000,
    );
    expect(getDeployment('min-ready').status.availableReplicas).toBeUndefined();
    await sim.control.waitFor(
      () => getDeployment('min-ready')?.status?.availableReplicas === 2,
      5000,
    );
    expect(
      getDeployment('min-ready').status.conditions.find(
        (c: any) => c.type === 'Available',
      ).status,
    ).toBe('True');
  });

  it('restarts a crash-looping container again and again on its back-off schedule', async () => {
    await sim.control.apply([
      deployment('crasher', 'ghcr.io/acme/app:1.0.0-crashloop', {
        replicas: 1,
      }),
    ]);
    // Restarts after 2 + 2 + 10 and 2 + 2 + 10 + 2 + 20 simulated seconds.
    await sim.control.waitFor(
      () =>
        pods('crasher')[0]?.status?.containerStatuses?.[0]?.restartCount === 2,
      8000,
    );
    const status = pods('crasher')[0].status.containerStatuses[0];
    expect(status.ready).toBe(false);
    expect(status.lastState.terminated.exitCode).toBe(1);
  });

  it('replaces a pod deleted through the API and keeps the Endpoints in step', async () => {
    await sim.control.apply([
      deployment('web', 'ghcr.io/acme/web:1.0.0'),
      service('web', { app: 'web' }),
    ]);
    const endpointsOf = () =>
      sim.control.get('v1', 'Endpoints', 'default', 'web')?.subsets?.[0]
        ?.addresses ?? [];
    await sim.control.waitFor(() => endpointsOf().length === 2, 5000);
    const victim = pods('web')[0].metadata.name;
    await del(`/api/v1/namespaces/default/pods/${victim}`);
    await sim.control.waitFor(
      () =>
        pods('web').length === 2 &&
        !pods('web').some(p => p.metadata.name === victim) &&
        endpointsOf().length === 2,
      5000,
    );
    expect(
      endpointsOf()
        .map((a: any) => a.targetRef.name)
        .sort(),
    ).toEqual(
      pods('web')
        .map(p => p.metadata.name)
        .sort(),
    );

    // A selector that matches nothing empties them; deleting the Service deletes them.
    await sim.control.apply([service('web', { app: 'nothing' })]);
    await sim.control.waitFor(
      () =>
        (sim.control.get('v1', 'Endpoints', 'default', 'web')?.subsets ?? [])
          .length === 0,
      5000,
    );
    await del('/api/v1/namespaces/default/services/web');
    await sim.control.waitFor(
      () => !sim.control.get('v1', 'Endpoints', 'default', 'web'),
      5000,
    );
  });

  it('collects objects of any kind whose owners are gone, or never existed', async () => {
    await sim.control.apply([deployment('owner', 'ghcr.io/acme/app:1.0.0')]);
    const owner = getDeployment('owner');
    const configMap = (name: string, uid: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: 'default',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'owner', uid },
        ],
      },
      data: { a: 'b' },
    });
    await sim.control.apply([
      configMap('owned', owner.metadata.uid),
      configMap('orphan', '00000000-0000-0000-0000-000000000000'),
    ]);
    await sim.control.waitFor(
      () => !sim.control.get('v1', 'ConfigMap', 'default', 'orphan'),
      5000,
    );
    expect(sim.control.get('v1', 'ConfigMap', 'default', 'owned')).toBeTruthy();
    await del('/apis/apps/v1/namespaces/default/deployments/owner');
    await sim.control.waitFor(
      () =>
        !sim.control.get('v1', 'ConfigMap', 'default', 'owned') &&
        pods('owner').length === 0,
      5000,
    );
  });
});
