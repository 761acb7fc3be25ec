import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  makeInformer,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { KubeSim, startKubeSim } from './index';

/** Drives kube-sim with the official JavaScript client, as the Backstage Kubernetes backend does. */

const TIME_SCALE = 0.05;

jest.setTimeout(20000);

function deployment(name: string, image: string, extra: any = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image,
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
            },
          ],
        },
      },
      ...extra,
    },
  };
}

function statusOf(e: any) {
  return e?.code ?? e?.statusCode ?? e?.response?.statusCode;
}

function bodyOf(e: any) {
  return typeof e?.body === 'string' ? JSON.parse(e.body) : e?.body;
}

describe('kube-sim conformance with @kubernetes/client-node', () => {
  let sim: KubeSim;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let kc: KubeConfig;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: TIME_SCALE });
    kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await sim.close();
  });

  it('serves version and discovery', async () => {
    const version = await (await fetch(`${sim.url}/version`)).json();
    expect(version.major).toBe('1');
    const v1 = await (await fetch(`${sim.url}/api/v1`)).json();
    const pods = v1.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({
      kind: 'Pod',
      namespaced: true,
      shortNames: ['po'],
    });
    expect(pods.verbs).toEqual(
      expect.arrayContaining(['get', 'list', 'watch', 'create', 'patch']),
    );
    const groups = await (await fetch(`${sim.url}/apis`)).json();
    expect(groups.groups.map((g: any) => g.name)).toEqual(
      expect.arrayContaining([
        'apps',
        'batch',
        'networking.k8s.io',
        'autoscaling',
      ]),
    );
    const appsV1 = await (await fetch(`${sim.url}/apis/apps/v1`)).json();
    expect(
      appsV1.resources.find((r: any) => r.name === 'deployments/scale'),
    ).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
    });
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map(n => n.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system']),
    );
  });

  it('creates, reads, updates and deletes with resourceVersion, uid and timestamps', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: {
        metadata: { name: 'crud', labels: { tier: 'a' } },
        data: { k: 'v1' },
      },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const rv1 = Number(created.metadata?.resourceVersion);
    expect(rv1).toBeGreaterThan(0);

    const read = await core.readNamespacedConfigMap({
      name: 'crud',
      namespace: 'default',
    });
    expect(read.data).toEqual({ k: 'v1' });

    read.data = { k: 'v2' };
    const updated = await core.replaceNamespacedConfigMap({
      name: 'crud',
      namespace: 'default',
      body: read,
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(rv1);
    expect(updated.metadata?.uid).toBe(created.metadata?.uid);

    // A second writer with the old resourceVersion loses.
    const stale = { ...read, data: { k: 'stale' } };
    const conflict = await core
      .replaceNamespacedConfigMap({
        name: 'crud',
        namespace: 'default',
        body: stale,
      })
      .catch(e => e);
    expect(statusOf(conflict)).toBe(409);
    expect(bodyOf(conflict)).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      code: 409,
    });

    const dup = await core
      .createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'crud' } },
      })
      .catch(e => e);
    expect(statusOf(dup)).toBe(409);
    expect(bodyOf(dup).reason).toBe('AlreadyExists');

    await core.deleteNamespacedConfigMap({
      name: 'crud',
      namespace: 'default',
    });
    const gone = await core
      .readNamespacedConfigMap({ name: 'crud', namespace: 'default' })
      .catch(e => e);
    expect(statusOf(gone)).toBe(404);
    expect(bodyOf(gone)).toMatchObject({
      reason: 'NotFound',
      message: 'configmaps "crud" not found',
      details: { name: 'crud', kind: 'configmaps' },
    });
  });

  it('lists with label and field selectors, across and within namespaces', async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    for (const [name, tier] of [
      ['a', 'web'],
      ['b', 'web'],
      ['c', 'db'],
    ]) {
      await core.createNamespacedConfigMap({
        namespace: 'sel',
        body: {
          metadata: {
            name,
            labels: { tier, 'backstage.io/kubernetes-id': 'svc' },
          },
        },
      });
    }
    const web = await core.listNamespacedConfigMap({
      namespace: 'sel',
      labelSelector: 'tier=web',
    });
    expect(web.items.map(i => i.metadata?.name)).toEqual(['a', 'b']);
    const notWeb = await core.listNamespacedConfigMap({
      namespace: 'sel',
      labelSelector: 'tier!=web',
    });
    expect(notWeb.items.map(i => i.metadata?.name)).toEqual(['c']);
    const setBased = await core.listNamespacedConfigMap({
      namespace: 'sel',
      labelSelector: 'tier in (db,cache)',
    });
    expect(setBased.items.map(i => i.metadata?.name)).toEqual(['c']);
    const all = await core.listConfigMapForAllNamespaces({
      labelSelector: 'backstage.io/kubernetes-id=svc',
    });
    expect(all.items).toHaveLength(3);
    const byName = await core.listNamespacedConfigMap({
      namespace: 'sel',
      fieldSelector: 'metadata.name=b',
    });
    expect(byName.items.map(i => i.metadata?.name)).toEqual(['b']);
    const page = await core.listNamespacedConfigMap({
      namespace: 'sel',
      limit: 2,
    });
    expect(page.items).toHaveLength(2);
    expect(page.metadata?._continue).toBeTruthy();
    const rest = await core.listNamespacedConfigMap({
      namespace: 'sel',
      limit: 2,
      _continue: page.metadata?._continue,
    });
    expect(rest.items.map(i => i.metadata?.name)).toEqual(['c']);
    // Kinds the Backstage Kubernetes plugin asks for exist and are empty.
    const batch = await (
      await fetch(`${sim.url}/apis/batch/v1/namespaces/sel/cronjobs`)
    ).json();
    expect(batch).toMatchObject({ kind: 'CronJobList', items: [] });
    const hpas = await (
      await fetch(
        `${sim.url}/apis/autoscaling/v2/horizontalpodautoscalers?labelSelector=a%3Db`,
      )
    ).json();
    expect(hpas.items).toEqual([]);
    const metrics = await fetch(
      `${sim.url}/apis/metrics.k8s.io/v1beta1/namespaces/sel/pods`,
    );
    // metrics.k8s.io answers with simulated usage for running pods (none here).
    expect(await metrics.json()).toMatchObject({
      kind: 'PodMetricsList',
      items: [],
    });
  });

  it('answers Status errors for malformed bodies, invalid names and missing fields', async () => {
    const malformed = await fetch(
      `${sim.url}/api/v1/namespaces/default/configmaps`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"metadata": ',
      },
    );
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
    });

    const invalid = await core
      .createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'Not_Valid' } },
      })
      .catch(e => e);
    expect(statusOf(invalid)).toBe(422);
    expect(bodyOf(invalid)).toMatchObject({
      reason: 'Invalid',
      details: {
        name: 'Not_Valid',
        kind: 'ConfigMap',
        causes: [
          expect.objectContaining({
            field: 'metadata.name',
            reason: 'FieldValueInvalid',
          }),
        ],
      },
    });

    const noContainers = await apps
      .createNamespacedDeployment({
        namespace: 'default',
        body: {
          metadata: { name: 'empty' },
          spec: {
            selector: { matchLabels: { a: 'b' } },
            template: {
              metadata: { labels: { a: 'b' } },
              spec: { containers: [] },
            },
          },
        },
      })
      .catch(e => e);
    expect(statusOf(noContainers)).toBe(422);
    expect(bodyOf(noContainers).details.causes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          field: 'spec.template.spec.containers',
          reason: 'FieldValueRequired',
        }),
      ]),
    );

    const unknown = await fetch(
      `${sim.url}/apis/apps/v1/namespaces/default/widgets`,
    );
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).reason).toBe('NotFound');

    const noNamespace = await core
      .createNamespacedConfigMap({
        namespace: 'nowhere',
        body: { metadata: { name: 'x' } },
      })
      .catch(e => e);
    expect(statusOf(noNamespace)).toBe(404);
  });

  it('applies JSON merge, JSON and strategic merge patches', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('patchme', 'ghcr.io/acme/app:1.0.0', {
        template: {
          metadata: { labels: { app: 'patchme' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'ghcr.io/acme/app:1.0.0',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
              },
              { name: 'sidecar', image: 'ghcr.io/acme/proxy:1.0.0' },
            ],
          },
        },
      }),
    });
    const merge = await apps.patchNamespacedDeployment(
      {
        name: 'patchme',
        namespace: 'default',
        body: { metadata: { labels: { extra: 'yes' } }, spec: { replicas: 3 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merge.metadata?.labels).toEqual({ app: 'patchme', extra: 'yes' });
    expect(merge.spec?.replicas).toBe(3);
    expect(merge.metadata?.generation).toBe(2);

    const json = await apps.patchNamespacedDeployment(
      {
        name: 'patchme',
        namespace: 'default',
        body: [
          { op: 'replace', path: '/spec/replicas', value: 1 },
          { op: 'remove', path: '/metadata/labels/extra' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(json.spec?.replicas).toBe(1);
    expect(json.metadata?.labels).toEqual({ app: 'patchme' });

    // Strategic merge merges containers and env by name instead of replacing the lists.
    const smp = await apps.patchNamespacedDeployment(
      {
        name: 'patchme',
        namespace: 'default',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: 'ghcr.io/acme/app:1.1.0',
                    env: [{ name: 'B', value: '3' }],
                  },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = smp.spec?.template.spec?.containers ?? [];
    expect(containers.map(c => [c.name, c.image])).toEqual([
      ['app', 'ghcr.io/acme/app:1.1.0'],
      ['sidecar', 'ghcr.io/acme/proxy:1.0.0'],
    ]);
    expect(containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
    ]);

    const badTest = await apps
      .patchNamespacedDeployment(
        {
          name: 'patchme',
          namespace: 'default',
          body: [{ op: 'test', path: '/spec/replicas', value: 7 }],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      )
      .catch(e => e);
    expect(statusOf(badTest)).toBe(422);
  });

  it('serves the status and scale subresources', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('scaled', 'ghcr.io/acme/app:1.0.0'),
    });
    const scale = await apps.readNamespacedDeploymentScale({
      name: 'scaled',
      namespace: 'default',
    });
    expect(scale.spec?.replicas).toBe(2);
    expect(scale.status?.selector).toBe('app=scaled');
    await apps.patchNamespacedDeploymentScale(
      { name: 'scaled', namespace: 'default', body: { spec: { replicas: 4 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await sim.control.waitFor(
      () =>
        sim.control.get('apps/v1', 'Deployment', 'default', 'scaled')?.status
          ?.readyReplicas === 4,
      10000,
    );
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app=scaled',
      fieldSelector: 'status.phase=Running',
    });
    expect(pods.items).toHaveLength(4);

    // The main resource ignores status; /status writes only status.
    const d = await apps.readNamespacedDeployment({
      name: 'scaled',
      namespace: 'default',
    });
    const before = d.metadata?.generation;
    const status = await apps.patchNamespacedDeploymentStatus(
      {
        name: 'scaled',
        namespace: 'default',
        body: {
          status: { conditions: [{ type: 'Custom', status: 'True' }] },
          spec: { replicas: 9 },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(status.spec?.replicas).toBe(4);
    expect(status.metadata?.generation).toBe(before);
    const main = await apps.patchNamespacedDeployment(
      {
        name: 'scaled',
        namespace: 'default',
        body: { status: { replicas: 99 } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(main.status?.replicas).not.toBe(99);
  });

  it('streams watch events from a resourceVersion, with bookmarks, and 410 for expired versions', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const events: Array<[string, string]> = [];
    const watch = new Watch(kc);
    let ended: any = 'open';
    const controller = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      {
        resourceVersion: list.metadata?.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: 'w=1',
      },
      (type, obj) => events.push([type, obj?.metadata?.name ?? '']),
      err => {
        ended = err;
      },
    );
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w1', labels: { w: '1' } } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'other' } },
    });
    await core.patchNamespacedConfigMap(
      { name: 'w1', namespace: 'default', body: { data: { x: 'y' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'default' });
    await sim.control.waitFor(() => events.some(e => e[0] === 'DELETED'), 5000);
    expect(events.filter(e => e[0] !== 'BOOKMARK')).toEqual([
      ['ADDED', 'w1'],
      ['MODIFIED', 'w1'],
      ['DELETED', 'w1'],
    ]);
    // Bookmarks arrive every simulated minute (3 s at this time scale).
    await sim.control.waitFor(
      () => events.some(e => e[0] === 'BOOKMARK'),
      6000,
    );
    // The stream stayed open through all of it.
    expect(ended).toBe('open');
    controller.abort();

    // timeoutSeconds ends the stream cleanly.
    const closed = await new Promise<any>(resolve => {
      watch.watch(
        '/api/v1/namespaces/default/configmaps',
        { timeoutSeconds: 1 },
        () => {},
        resolve,
      );
    });
    expect(closed).toBeNull();

    const tiny = await startKubeSim({
      port: 0,
      timeScale: TIME_SCALE,
      watchCacheSize: 5,
    });
    try {
      for (let i = 0; i < 10; i++) {
        await tiny.control.apply([
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `c${i}`, namespace: 'default' },
          },
        ]);
      }
      const res = await fetch(
        `${tiny.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2`,
      );
      const first = JSON.parse((await res.text()).split('\n')[0]);
      expect(first).toMatchObject({
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired' },
      });
    } finally {
      await tiny.close();
    }
  });

  it('feeds a client-node informer, which resumes from its resourceVersion after a dropped watch', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const informer = makeInformer(
      kc,
      path,
      () =>
        core.listNamespacedConfigMap({
          namespace: 'default',
          labelSelector: 'inf=1',
        }),
      'inf=1',
    );
    const seen: string[] = [];
    const errorsSeen: unknown[] = [];
    informer.on('add', obj => seen.push(`add ${obj.metadata?.name}`));
    informer.on('update', obj => seen.push(`update ${obj.metadata?.name}`));
    informer.on('delete', obj => seen.push(`delete ${obj.metadata?.name}`));
    informer.on('error', err => errorsSeen.push(err));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'inf-a', labels: { inf: '1' } } },
      });
      await sim.control.waitFor(() => seen.includes('add inf-a'), 5000);
      // A dropped connection stops the informer with an error; restarted, it resumes from its
      // resourceVersion and sees what happened meanwhile.
      sim.control.setFaults({ dropWatchAfterMs: 1 });
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'inf-tick' } },
      });
      await sim.control.waitFor(() => errorsSeen.length > 0, 5000);
      sim.control.clearFaults();
      await core.patchNamespacedConfigMap(
        { name: 'inf-a', namespace: 'default', body: { data: { v: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await informer.start();
      await sim.control.waitFor(() => seen.includes('update inf-a'), 5000);
      await core.deleteNamespacedConfigMap({
        name: 'inf-a',
        namespace: 'default',
      });
      await sim.control.waitFor(() => seen.includes('delete inf-a'), 5000);
      expect(informer.list().map(o => o.metadata?.name)).toEqual([]);
      expect(seen).toEqual(['add inf-a', 'update inf-a', 'delete inf-a']);
    } finally {
      await informer.stop();
    }
  });

  it('rolls a Deployment out to completion with a new ReplicaSet at revision 2', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('roll', 'ghcr.io/acme/app:1.0.0', {
        replicas: 3,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        },
      }),
    });
    const complete = (gen: number) => {
      const d = sim.control.get('apps/v1', 'Deployment', 'default', 'roll');
      return (
        d?.status?.observedGeneration >= gen &&
        d.status.updatedReplicas === 3 &&
        d.status.availableReplicas === 3 &&
        d.status.replicas === 3 &&
        d.status.conditions?.some(
          (c: any) =>
            c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable',
        )
      );
    };
    await sim.control.waitFor(() => complete(1), 15000);
    const first = await apps.listNamespacedReplicaSet({
      namespace: 'default',
      labelSelector: 'app=roll',
    });
    expect(first.items).toHaveLength(1);
    expect(
      first.items[0].metadata?.annotations?.[
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('1');

    // Track the maximum pods during the rollout: maxSurge 1 allows 4, maxUnavailable 0 keeps 3 ready.
    let maxPods = 0;
    let minReady = 3;
    const stop = setInterval(() => {
      const d = sim.control.get('apps/v1', 'Deployment', 'default', 'roll');
      maxPods = Math.max(
        maxPods,
        sim.control.list('v1', 'Pod', 'default', 'app=roll').length,
      );
      minReady = Math.min(minReady, d?.status?.availableReplicas ?? 0);
    }, 5);
    await apps.patchNamespacedDeployment(
      {
        name: 'roll',
        namespace: 'default',
        body: {
          spec: {
            template: {
              spec: {
                containers: [{ name: 'app', image: 'ghcr.io/acme/app:1.1.0' }],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await sim.control.waitFor(() => complete(2), 15000);
    clearInterval(stop);
    expect(maxPods).toBeLessThanOrEqual(4);
    expect(minReady).toBeGreaterThanOrEqual(3);

    const d = await apps.readNamespacedDeployment({
      name: 'roll',
      namespace: 'default',
    });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe(
      '2',
    );
    expect(d.status?.observedGeneration).toBe(2);
    const rss = await apps.listNamespacedReplicaSet({
      namespace: 'default',
      labelSelector: 'app=roll',
    });
    const byRevision = Object.fromEntries(
      rss.items.map(rs => [
        rs.metadata?.annotations?.['deployment.kubernetes.io/revision'],
        rs,
      ]),
    );
    expect(byRevision['2'].spec?.replicas).toBe(3);
    expect(byRevision['2'].spec?.template?.spec?.containers[0].image).toBe(
      'ghcr.io/acme/app:1.1.0',
    );
    expect(
      byRevision['2'].metadata?.labels?.['pod-template-hash'],
    ).toBeTruthy();
    expect(byRevision['2'].metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'roll',
      controller: true,
    });
    expect(byRevision['1'].spec?.replicas).toBe(0);
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app=roll',
    });
    expect(pods.items.map(p => p.spec?.containers[0].image)).toEqual(
      Array(3).fill('ghcr.io/acme/app:1.1.0'),
    );

    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.name=roll',
    });
    expect(events.items.map(e => e.reason)).toContain('ScalingReplicaSet');

    // Service -> Endpoints from ready pods.
    await core.createNamespacedService({
      namespace: 'default',
      body: {
        metadata: { name: 'roll' },
        spec: {
          selector: { app: 'roll' },
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      },
    });
    await sim.control.waitFor(
      () =>
        sim.control.get('v1', 'Endpoints', 'default', 'roll')?.subsets?.[0]
          ?.addresses?.length === 3,
      5000,
    );
    const ep = await core.readNamespacedEndpoints({
      name: 'roll',
      namespace: 'default',
    });
    expect(ep.subsets?.[0].ports).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
    ]);
  });

  it('recreates, pauses and keeps revisionHistoryLimit ReplicaSets', async () => {
    const patchImage = (name: string, image: string) =>
      apps.patchNamespacedDeployment(
        {
          name,
          namespace: 'default',
          body: {
            spec: {
              template: { spec: { containers: [{ name: 'app', image }] } },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    const done = (name: string, revision: string) => () => {
      const d = sim.control.get('apps/v1', 'Deployment', 'default', name);
      return (
        d?.metadata.annotations?.['deployment.kubernetes.io/revision'] ===
          revision &&
        d.status?.conditions?.some(
          (c: any) => c.reason === 'NewReplicaSetAvailable',
        ) &&
        d.status.updatedReplicas === d.spec.replicas &&
        d.status.replicas === d.spec.replicas
      );
    };
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('recreate', 'ghcr.io/acme/app:1.0.0', {
        strategy: { type: 'Recreate' },
        revisionHistoryLimit: 1,
      }),
    });
    await sim.control.waitFor(done('recreate', '1'), 10000);

    // Recreate: old and new pods never run together.
    let mixed = false;
    const watchPods = setInterval(() => {
      const images = new Set(
        sim.control
          .list('v1', 'Pod', 'default', 'app=recreate')
          .map(p => p.spec.containers[0].image),
      );
      if (images.size > 1) mixed = true;
    }, 2);
    await patchImage('recreate', 'ghcr.io/acme/app:1.1.0');
    await sim.control.waitFor(done('recreate', '2'), 10000);
    await patchImage('recreate', 'ghcr.io/acme/app:1.2.0');
    await sim.control.waitFor(done('recreate', '3'), 10000);
    clearInterval(watchPods);
    expect(mixed).toBe(false);
    // revisionHistoryLimit 1: the current ReplicaSet and one old one remain.
    const rss = sim.control.list(
      'apps/v1',
      'ReplicaSet',
      'default',
      'app=recreate',
    );
    expect(
      rss
        .map(rs => rs.metadata.annotations['deployment.kubernetes.io/revision'])
        .sort(),
    ).toEqual(['2', '3']);

    // Paused: template changes wait until resume.
    await apps.patchNamespacedDeployment(
      {
        name: 'recreate',
        namespace: 'default',
        body: { spec: { paused: true } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await patchImage('recreate', 'ghcr.io/acme/app:1.3.0');
    await sim.control.waitFor(
      () =>
        sim.control
          .get('apps/v1', 'Deployment', 'default', 'recreate')
          ?.status?.conditions?.some(
            (c: any) => c.reason === 'DeploymentPaused',
          ),
      5000,
    );
    await new Promise(r => setTimeout(r, 300));
    expect(
      sim.control.list('apps/v1', 'ReplicaSet', 'default', 'app=recreate'),
    ).toHaveLength(2);
    await apps.patchNamespacedDeployment(
      {
        name: 'recreate',
        namespace: 'default',
        body: { spec: { paused: false } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await sim.control.waitFor(done('recreate', '4'), 10000);
    const pods = sim.control.list('v1', 'Pod', 'default', 'app=recreate');
    expect(pods.map(p => p.spec.containers[0].image)).toEqual(
      Array(2).fill('ghcr.io/acme/app:1.3.0'),
    );
  });

  it('takes a crash-looping image to ProgressDeadlineExceeded', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: deployment('broken', 'ghcr.io/acme/app:2.0.0-crashloop', {
        progressDeadlineSeconds: 20,
      }),
    });
    await sim.control.waitFor(() => {
      const d = sim.control.get('apps/v1', 'Deployment', 'default', 'broken');
      return d?.status?.conditions?.some(
        (c: any) =>
          c.type === 'Progressing' &&
          c.status === 'False' &&
          c.reason === 'ProgressDeadlineExceeded',
      );
    }, 10000);
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app=broken',
    });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe('Running');
      const cs = pod.status?.containerStatuses?.[0];
      expect(cs?.ready).toBe(false);
      expect(cs?.restartCount).toBeGreaterThan(0);
    }
    await sim.control.waitFor(
      () =>
        sim.control
          .list('v1', 'Pod', 'default', 'app=broken')
          .some(
            p =>
              p.status?.containerStatuses?.[0]?.state?.waiting?.reason ===
              'CrashLoopBackOff',
          ),
      5000,
    );
    const d = await apps.readNamespacedDeployment({
      name: 'broken',
      namespace: 'default',
    });
    expect(d.status?.availableReplicas ?? 0).toBe(0);
    expect(d.status?.unavailableReplicas).toBe(2);
  });

  it('deletes dependents of a deleted Deployment and the content of a deleted namespace', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await apps.createNamespacedDeployment({
      namespace: 'doomed',
      body: {
        ...deployment('gc', 'ghcr.io/acme/app:1.0.0'),
        metadata: { name: 'gc', namespace: 'doomed' },
      },
    });
    await sim.control.waitFor(
      () => sim.control.list('v1', 'Pod', 'doomed').length === 2,
      5000,
    );
    await apps.deleteNamespacedDeployment({ name: 'gc', namespace: 'doomed' });
    await sim.control.waitFor(
      () =>
        sim.control.list('v1', 'Pod', 'doomed').length === 0 &&
        sim.control.list('apps/v1', 'ReplicaSet', 'doomed').length === 0,
      5000,
    );
    expect(sim.control.list('apps/v1', 'Deployment', 'doomed')).toEqual([]);
    const terminating = await core.deleteNamespace({ name: 'doomed' });
    expect((terminating as any).status?.phase).toBe('Terminating');
    await sim.control.waitFor(
      () => !sim.control.get('v1', 'Namespace', '', 'doomed'),
      5000,
    );
    expect(sim.control.list('v1', 'Event', 'doomed')).toEqual([]);
  });
});
