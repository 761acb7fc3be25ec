import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { TestCluster, clusterTargets } from '@internal/kube-real';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { KubeConfig } from '@kubernetes/client-node';
import { deployment } from '../testing/FakeCluster';
import { RolloutEngine } from './RolloutEngine';

/**
 * The engine on a real kube-apiserver (1.20.2), for what a simulator does not prove by itself:
 * a watch that ends in 410 Gone because etcd compacted the history it would resume from, and the
 * server's own validation and defaulting of the objects the engine writes. Defaulting is checked
 * on kube-sim as well, with the same expectations, so kube-sim cannot drift from the real server
 * unnoticed. The real target needs the control plane built (packages/kube-real/scripts/build.sh);
 * without it these tests fail, they are never skipped.
 */

jest.setTimeout(240_000);

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'payments',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'payments',
      'backstage.io/kubernetes-namespace': 'shop',
    },
  },
  spec: {
    owner: 'group:default/team-a',
    type: 'service',
    lifecycle: 'production',
  },
};

const canaryAnnotations = {
  [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
  [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
    { setWeight: 25 },
    { pause: {} },
  ]),
};

function kubeConfigOf(cluster: TestCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.url, skipTLSVerify: true }],
    users: [{ name: 'test', token: cluster.token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return kc;
}

async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(
          value,
        )}`,
      );
    }
    await new Promise(r => setTimeout(r, 100));
  }
}

/** Whether a watch of Deployments from this resourceVersion is refused with 410 Gone. */
function watchIsGone(cluster: TestCluster, resourceVersion: string) {
  return new Promise<boolean>((resolve, reject) => {
    let text = '';
    const req = cluster.rest.open(
      'GET',
      `/apis/apps/v1/deployments?watch=1&resourceVersion=${resourceVersion}&timeoutSeconds=1`,
      res => {
        if (res.statusCode === 410) {
          res.resume();
          resolve(true);
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (/"code":410/.test(text)) {
            req.destroy();
            resolve(true);
          }
        });
        res.on('end', () => resolve(/"code":410/.test(text)));
      },
    );
    req.on('error', e => (/"code":410/.test(text) ? resolve(true) : reject(e)));
    req.end();
  });
}

function startEngine(cluster: TestCluster) {
  return RolloutEngine.fromClusters(
    [{ name: 'test', url: cluster.url, kubeConfig: kubeConfigOf(cluster) }],
    mockServices.logger.mock(),
    { unreadyThresholdMs: 60_000 },
  );
}

const shop = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop' },
};

describe('RolloutEngine on a real API server: watches that end in 410 Gone after etcd compaction', () => {
  const real = clusterTargets().find(t => t.name === 'real')!;
  let cluster: TestCluster;
  let engine: RolloutEngine;

  beforeAll(async () => {
    // Watches are served from etcd (no watch cache), and etcd is compacted every second.
    cluster = await real.start({
      timeScale: 0.05,
      apiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'],
      seed: [
        shop,
        deployment({
          name: 'payments',
          image: 'acme/payments:1.0.0',
          replicas: 2,
        }),
      ],
    });
    engine = startEngine(cluster);
  });

  afterAll(async () => {
    await engine?.stop();
    await cluster?.close();
  });

  const replicasInView = async () => {
    const [first] = await engine.views(entity);
    return first?.view.revisions.reduce((n, r) => n + r.replicas, 0);
  };

  it('re-lists and catches up with a change it could not watch', async () => {
    expect(
      await eventually(replicasInView, n => n === 2, 30_000, 'two replicas'),
    ).toBe(2);

    // The engine's watches end, as at an API server's request timeout, and cannot resume yet.
    const release = cluster.proxy!.holdWatches();
    const listed = await cluster.rest.request(
      'GET',
      '/apis/apps/v1/deployments',
    );
    const before = listed.body.metadata.resourceVersion;
    // Someone else scales the workload meanwhile.
    const scaled = await cluster.rest.request(
      'PATCH',
      '/apis/apps/v1/namespaces/shop/deployments/payments',
      { spec: { replicas: 5 } },
      'application/merge-patch+json',
    );
    expect(scaled.status).toBe(200);
    // etcd compacts past every resourceVersion the engine holds: resuming from them is 410 Gone.
    await eventually(
      () => watchIsGone(cluster, before),
      gone => gone,
      30_000,
      'etcd compaction',
    );
    release();

    expect(
      await eventually(replicasInView, n => n === 5, 30_000, 'five replicas'),
    ).toBe(5);
    expect(cluster.proxy!.counts.watchesGone).toBeGreaterThan(0);
  });
});

describe.each(clusterTargets())(
  'RolloutEngine writes what the API server accepts and defaults, on $name',
  target => {
    let cluster: TestCluster;
    let engine: RolloutEngine;

    beforeAll(async () => {
      cluster = await target.start({
        timeScale: 0.05,
        seed: [
          shop,
          deployment({
            name: 'payments',
            image: 'acme/payments:1.0.0',
            replicas: 4,
            annotations: canaryAnnotations,
          }),
        ],
      });
      engine = startEngine(cluster);
    });

    afterAll(async () => {
      await engine?.stop();
      await cluster?.close();
    });

    it('starts a canary whose companion Deployment is accepted and read back with the defaults', async () => {
      await eventually(
        async () => (await engine.views(entity)).length,
        n => n === 1,
        30_000,
        'the workload in the view',
      );
      const located = await engine.locate(entity, 'test', 'payments');
      const started = await engine.act({
        entity,
        located,
        action: 'start',
        image: 'acme/payments:2.0.0',
        input: {},
        expected: {},
        actor: 'user:default/ada',
      });
      expect(started.view.phase).toBe('Progressing');

      const canary = await cluster.rest.request(
        'GET',
        '/apis/apps/v1/namespaces/shop/deployments/payments-canary',
      );
      expect(canary.status).toBe(200);
      const d = canary.body;
      // Written by the engine, kept by the server.
      expect(d.spec.replicas).toBe(1);
      // The engine's own by its labels alone (the binding annotation is left to the deployer).
      expect(d.metadata.labels[ROLLOUT_LABELS.owner]).toBe('payments');
      expect(d.spec.template.spec.containers[0].image).toBe(
        'acme/payments:2.0.0',
      );
      // Filled in by the server (SetDefaults_Deployment, SetDefaults_PodSpec, SetDefaults_Container).
      expect(d.metadata).toMatchObject({ generation: 1 });
      expect(d.metadata.uid).toBeTruthy();
      expect(d.spec).toMatchObject({
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
        },
      });
      expect(d.spec.template.spec).toMatchObject({
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        schedulerName: 'default-scheduler',
        securityContext: {},
      });
      expect(d.spec.template.spec.containers[0]).toMatchObject({
        name: 'app',
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: {},
      });

      // And the controllers take it from there: the canary's pod becomes ready.
      await eventually(
        async () =>
          (
            await cluster.rest.request(
              'GET',
              '/apis/apps/v1/namespaces/shop/deployments/payments-canary',
            )
          ).body.status?.readyReplicas,
        n => n === 1,
        60_000,
        'the canary pod ready',
      );
    });
  },
);

/** A component whose Kubernetes id is `name`, in namespace shop (the FakeCluster workloads' binding). */
function entityOf(name: string): Entity {
  return {
    ...entity,
    metadata: {
      ...entity.metadata,
      name,
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace': 'shop',
      },
    },
  };
}

function serviceOf(name: string, app: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'shop',
      annotations: { [ROLLOUT_ANNOTATIONS.entity]: `component:default/${app}` },
    },
    spec: { selector: { app }, ports: [{ port: 80 }] },
  };
}

/**
 * The behaviours of the FakeCluster unit suite (RolloutEngine.test.ts) that depend on what an API
 * server does (the Deployment and ReplicaSet controllers, pod readiness, resourceVersions, the
 * server's own defaults), again on both targets: a canary's whole life, its abort and retry, a
 * blue-green promote and instant rollback, a rolling update and its rollback by revision, and the
 * 409 guard on a stale step or revision. The unit suite stays the fast one; this one proves it.
 */
describe.each(clusterTargets())(
  "RolloutEngine's strategies on the API server of $name",
  target => {
    let cluster: TestCluster;
    let engine: RolloutEngine;
    const twoSteps = {
      [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
      [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify([
        { setWeight: 25 },
        { pause: {} },
      ]),
    };

    beforeAll(async () => {
      cluster = await target.start({
        timeScale: 0.05,
        seed: [
          shop,
          deployment({
            name: 'checkout',
            image: 'acme/checkout:1.0.0',
            annotations: twoSteps,
          }),
          deployment({
            name: 'cart',
            image: 'acme/cart:1.0.0',
            annotations: twoSteps,
          }),
          deployment({
            name: 'ledger',
            image: 'acme/ledger:1.0.0',
            replicas: 2,
            annotations: {
              [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
              [ROLLOUT_ANNOTATIONS.activeService]: 'ledger',
              [ROLLOUT_ANNOTATIONS.previewService]: 'ledger-preview',
              [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '1s',
            },
          }),
          serviceOf('ledger', 'ledger'),
          serviceOf('ledger-preview', 'ledger'),
          deployment({ name: 'web', image: 'acme/web:1.0.0', replicas: 2 }),
        ],
      });
      engine = startEngine(cluster);
      await eventually(
        async () =>
          (
            await Promise.all(
              ['checkout', 'cart', 'ledger', 'web'].map(
                async n => (await engine.views(entityOf(n)))[0]?.view.phase,
              ),
            )
          ).every(p => p === 'Healthy'),
        ok => ok,
        90_000,
        'every workload healthy',
      );
    });

    afterAll(async () => {
      await engine?.stop();
      await cluster?.close();
    });

    const viewOf = async (name: string) =>
      (await engine.views(entityOf(name)))[0].view;
    const until = (
      name: string,
      ok: (v: Awaited<ReturnType<typeof viewOf>>) => boolean,
      what: string,
    ) => eventually(() => viewOf(name), ok, 60_000, `${name}: ${what}`);
    const act = async (
      name: string,
      action: Parameters<RolloutEngine['act']>[0]['action'],
      extra: Partial<Parameters<RolloutEngine['act']>[0]> = {},
    ) =>
      engine.act({
        entity: entityOf(name),
        located: await engine.locate(entityOf(name), 'test', name),
        action,
        input: {},
        expected: {},
        actor: 'user:default/ada',
        ...extra,
      });
    const read = async (path: string) =>
      cluster.rest.request('GET', `/apis/apps/v1/namespaces/shop/${path}`);
    const imageOf = (d: any) => d.spec.template.spec.containers[0].image;

    it('walks a canary to its approval pause, refuses a stale promote (409), and finishes on the new image', async () => {
      await act('checkout', 'start', { image: 'acme/checkout:2.0.0' });
      const paused = await until(
        'checkout',
        v => v.phase === 'Paused',
        'the approval pause',
      );
      expect(paused).toMatchObject({
        step: { index: 1, total: 2 },
        weight: { desired: 25, actual: 25, method: 'replica-ratio' },
        revision: 1,
      });
      expect((await read('deployments/checkout')).body.spec.replicas).toBe(3);

      await expect(
        act('checkout', 'promote', { expected: { stepIndex: 0 } }),
      ).rejects.toMatchObject({ name: 'ConflictError' });
      await expect(
        act('checkout', 'promote', { expected: { stepIndex: 1, revision: 7 } }),
      ).rejects.toThrow('The rollout moved on since you looked');

      await act('checkout', 'promote', {
        expected: { stepIndex: 1, revision: 1 },
      });
      const done = await until(
        'checkout',
        v => v.phase === 'Healthy' && v.stableImage === 'acme/checkout:2.0.0',
        'healthy on 2.0.0',
      );
      expect(done.targetImage).toBeUndefined();
      const primary = (await read('deployments/checkout')).body;
      expect(imageOf(primary)).toBe('acme/checkout:2.0.0');
      expect(primary.spec.replicas).toBe(4);
      expect((await read('deployments/checkout-canary')).status).toBe(404);
    });

    it('aborts a canary back to the stable version, then retries from step 0', async () => {
      await act('cart', 'start', { image: 'acme/cart:2.0.0' });
      await until('cart', v => v.phase === 'Paused', 'paused');
      const aborted = await act('cart', 'abort', {
        input: { reason: 'latency up' },
      });
      expect(aborted.view).toMatchObject({
        phase: 'Aborted',
        message: 'Aborted: latency up',
      });
      await eventually(
        async () => (await read('deployments/cart-canary')).status,
        s => s === 404,
        30_000,
        'the canary deleted',
      );
      const primary = (await read('deployments/cart')).body;
      expect(imageOf(primary)).toBe('acme/cart:1.0.0');
      // Abort deletes the canary and then scales the stable back to the whole count, in the
      // reconcile after the action (a moment later on the real server).
      expect(
        await eventually(
          async () => (await read('deployments/cart')).body.spec.replicas,
          n => n === 4,
          30_000,
          'the stable scaled back to 4',
        ),
      ).toBe(4);
      await expect(act('cart', 'promote')).rejects.toThrow(
        /Cannot promote cart: the rollout is Aborted/,
      );

      const retried = await act('cart', 'retry');
      expect(retried.view).toMatchObject({
        phase: 'Progressing',
        revision: 2,
        step: { index: 0 },
      });
      await until('cart', v => v.phase === 'Paused', 'paused again');
    });

    it('promotes a blue-green by switching the active Service, and rolls back on the Service', async () => {
      const selector = async (svc: string) =>
        (
          await cluster.rest.request(
            'GET',
            `/api/v1/namespaces/shop/services/${svc}`,
          )
        ).body.spec.selector['pod-template-hash'];
      await act('ledger', 'start', { image: 'acme/ledger:2.0.0' });
      // Start pins the active Service to the current pods' hash before any preview exists.
      const before = await selector('ledger');
      expect(before).toBeTruthy();
      const paused = await until(
        'ledger',
        v => v.phase === 'Paused',
        'preview ready',
      );
      expect(paused.weight).toMatchObject({
        desired: 0,
        actual: 0,
        method: 'service-switch',
      });
      const preview = await selector('ledger-preview');
      expect(preview).not.toBe(before);

      await act('ledger', 'promote');
      expect(
        await eventually(
          () => selector('ledger'),
          h => h === preview,
          30_000,
          'the active Service on the preview pods',
        ),
      ).toBe(preview);
      await act('ledger', 'rollback');
      // The action records the decision; the reconcile that follows switches the Service back
      // (on kube-sim within the call, on the real server a moment later).
      expect(
        await eventually(
          () => selector('ledger'),
          h => h === before,
          30_000,
          'the active Service back on the stable pods',
        ),
      ).toBe(before);
      await eventually(
        async () => (await read('deployments/ledger-preview')).status,
        s => s === 404,
        30_000,
        'the preview deleted',
      );
      expect(await viewOf('ledger')).toMatchObject({
        phase: 'Healthy',
        stableImage: 'acme/ledger:1.0.0',
      });
    });

    it('runs a rolling update to its new revision and rolls it back by revision, refusing one that does not exist', async () => {
      await act('web', 'start', { image: 'acme/web:2.0.0' });
      const healthy = await until(
        'web',
        v => v.phase === 'Healthy' && v.stableImage === 'acme/web:2.0.0',
        'healthy on 2.0.0',
      );
      expect(healthy.revision).toBe(2);
      await expect(
        act('web', 'rollback', { expected: { revision: 1 } }),
      ).rejects.toMatchObject({ name: 'ConflictError' });
      await expect(
        act('web', 'rollback', { input: { toRevision: 42 } }),
      ).rejects.toMatchObject({ name: 'NotFoundError' });

      await act('web', 'rollback', { expected: { revision: 2 } });
      expect(imageOf((await read('deployments/web')).body)).toBe(
        'acme/web:1.0.0',
      );
      // The Deployment controller gives the old template a new revision, as on any cluster.
      const back = await until(
        'web',
        v => v.phase === 'Healthy' && v.revision === 3,
        'revision 3',
      );
      expect(back.stableImage).toBe('acme/web:1.0.0');
    });
  },
);
