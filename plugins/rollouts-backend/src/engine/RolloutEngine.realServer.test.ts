import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { TestCluster, clusterTargets } from '@internal/kube-real';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@internal/plugin-rollouts-common';
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
