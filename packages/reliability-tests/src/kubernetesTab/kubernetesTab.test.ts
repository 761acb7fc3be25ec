import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestCluster, clusterTargets, kubectl } from '@internal/kube-real';
import { ROLLOUT_LABELS } from '@rust-delivery-portal/plugin-rollouts-common';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import {
  CLUSTER,
  RedTeamPortal,
  startRedTeamPortal,
} from '../harness/redTeamPortal';
import {
  GithubOidcIssuer,
  startGithubOidcIssuer,
} from '../harness/tokenIssuers';
import {
  NS,
  canaryWorkload,
  namespaceObject,
  rollingWorkload,
} from '../harness/workloads';

/**
 * The Backstage Kubernetes plugin's tab, on both targets: what its backend
 * (`POST /api/kubernetes/services/:name`, the call the tab makes) answers for an entity, with the
 * least-privilege reader role of plugins/rollouts-backend/rbac on the real server. The tab shows
 * what this answer holds, so: the entity's Deployment, its ReplicaSet, its pods with their
 * readiness and restarts, its Service, the canary the engine made beside it, and no errors.
 */

// The real control plane adds up to a minute of start-up on a busy machine.
jest.setTimeout(240_000);

const OWNER = 'user:default/alice';
const ROLLOUTS = '/api/rollouts/entities/component/default/checkout';
const ENTITIES = [
  serviceEntity('checkout', 'user:default/alice', NS),
  serviceEntity('ledger', 'user:default/alice', NS),
  userEntity('alice'),
];

/** The portal's RBAC roles, then kube-real's token users bound to them (as `make start CLUSTER=real`). */
const RBAC_FILES = [
  resolvePackagePath(
    '@rust-delivery-portal/plugin-rollouts-backend',
    'rbac/rollouts-engine.yaml',
  ),
  resolvePackagePath(
    '@rust-delivery-portal/plugin-rollouts-backend',
    'rbac/kubernetes-plugin-reader.yaml',
  ),
  resolvePackagePath('@internal/kube-real', 'manifests/token-users.yaml'),
];

const isReady = (pod: any) =>
  pod.status?.conditions?.some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );

// eslint-disable-next-line jest/valid-title
describe.each(clusterTargets())(
  "the Kubernetes plugin's tab on $name",
  target => {
    let cluster: TestCluster;
    let github: GithubOidcIssuer;
    let portal: RedTeamPortal;

    beforeAll(async () => {
      cluster = await target.start({ timeScale: 0.05 });
      if (cluster.real) {
        for (const file of RBAC_FILES) {
          await kubectl(cluster.kubeconfig(), ['apply', '-f', file]);
        }
      }
      await cluster.control.apply([
        namespaceObject,
        ...canaryWorkload('checkout', 'registry.test/checkout:1.0.0'),
        // A release that crash-loops: what the tab flags as an error on its pods.
        ...rollingWorkload('ledger', 'registry.test/ledger:1.0.0-crashloop'),
      ]);
      await cluster.control.waitFor(
        () =>
          cluster.control.list('v1', 'Pod', NS, 'app=checkout').filter(isReady)
            .length === 4 &&
          cluster.control
            .list('v1', 'Pod', NS, 'app=ledger')
            .some(p => p.status?.containerStatuses?.[0]?.restartCount > 0),
        60_000,
      );
      // The portal as packages/backend composes it, the Kubernetes backend plugin included, in its
      // own Node process (the plugin's client loads modules in ways Jest's VM does not allow).
      github = await startGithubOidcIssuer();
      portal = await startRedTeamPortal({
        kubeUrl: cluster.url,
        entities: ENTITIES,
        github,
        users: { [OWNER]: [] },
        // The real server's least-privilege users; kube-sim takes any token.
        kubeTokens: cluster.real?.tokens,
        kubernetesPlugin: cluster.kubernetesPlugin,
      });
      await portal.waitForCatalog([
        'component:default/checkout',
        'component:default/ledger',
      ]);
    });
    afterAll(async () => {
      await portal?.stop();
      await github?.close();
      await cluster?.close();
    });

    /** What the tab asks for, as the signed-in owner: the entity's objects on every cluster. */
    async function tabOf(name: string) {
      const entity = ENTITIES.find(e => e.metadata.name === name);
      const res = await portal
        .http()
        .post(`/api/kubernetes/services/${name}`)
        .set(await portal.userHeader(OWNER))
        .send({ entity });
      if (res.status !== 200) {
        throw new Error(
          `the tab's call answered ${res.status}: ${JSON.stringify(res.body)}`,
        );
      }
      expect(res.body.items).toHaveLength(1);
      const [item] = res.body.items;
      expect(item.cluster.name).toBe(CLUSTER);
      const of = (type: string): any[] =>
        item.resources.find((r: any) => r.type === type)?.resources ?? [];
      return { errors: item.errors, of };
    }

    it("lists the entity's Deployment, ReplicaSet, ready pods on loopback addresses and Service, with no errors", async () => {
      const tab = await tabOf('checkout');
      // The reader role allows every list the plugin makes: a 403 or a kind this server does not
      // serve would be an error here, and the tab would show it.
      expect(tab.errors).toEqual([]);
      expect(tab.of('deployments').map(d => d.metadata.name)).toEqual([
        'checkout',
      ]);
      expect(tab.of('deployments')[0].status.readyReplicas).toBe(4);
      expect(tab.of('replicasets')).toHaveLength(1);
      const pods = tab.of('pods');
      expect(pods).toHaveLength(4);
      for (const pod of pods) {
        expect(isReady(pod)).toBe(true);
        expect(pod.status.phase).toBe('Running');
        expect(pod.status.podIP).toMatch(/^127\./);
      }
      expect(tab.of('services').map(s => s.metadata.name)).toEqual([
        'checkout',
      ]);
    });

    it('shows a crash-looping pod with its restarts and waiting reason, as the tab flags it', async () => {
      const tab = await tabOf('ledger');
      expect(tab.errors).toEqual([]);
      const pods = tab.of('pods');
      expect(pods).toHaveLength(2);
      for (const pod of pods) {
        expect(isReady(pod)).toBe(false);
      }
      // Between crashes a container is waiting in CrashLoopBackOff, or briefly running again: the
      // restarts are what the tab's error detection always finds.
      const statuses = pods.map(p => p.status.containerStatuses[0]);
      expect(statuses.some(s => s.restartCount > 0)).toBe(true);
      const reasons = statuses.map(
        s => s.state.waiting?.reason ?? s.lastState?.terminated?.reason,
      );
      expect(reasons.some(r => r === 'CrashLoopBackOff' || r === 'Error')).toBe(
        true,
      );
    });

    it("shows the canary the engine made beside the stable, with the canary's pods", async () => {
      const owner = await portal.userHeader(OWNER);
      const started = await portal
        .http()
        .post(`${ROLLOUTS}/rollouts`)
        .set(owner)
        .send({
          cluster: CLUSTER,
          workload: 'checkout',
          image: 'registry.test/checkout:2.0.0',
          reason: 'the Kubernetes tab sees the canary',
        });
      expect(started.status).toBe(201);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const res = await portal.http().get(`${ROLLOUTS}/rollouts`).set(owner);
        const view = res.body.items?.find(
          (v: any) => v.workload === 'checkout',
        );
        const canary = view?.revisions.find((r: any) => r.role === 'canary');
        if (view?.phase === 'Paused' && canary?.ready === 1) break;
        if (Date.now() > deadline) {
          throw new Error(`the canary never paused: ${JSON.stringify(view)}`);
        }
        await new Promise(r => setTimeout(r, 250));
      }
      const tab = await tabOf('checkout');
      expect(tab.errors).toEqual([]);
      expect(
        tab
          .of('deployments')
          .map(d => d.metadata.name)
          .sort(),
      ).toEqual(['checkout', 'checkout-canary']);
      const canaryPods = tab
        .of('pods')
        .filter(p => p.metadata.labels[ROLLOUT_LABELS.role] === 'canary');
      expect(canaryPods).toHaveLength(1);
      expect(canaryPods[0].spec.containers[0].image).toBe(
        'registry.test/checkout:2.0.0',
      );
      expect(isReady(canaryPods[0])).toBe(true);

      const aborted = await portal
        .http()
        .post(`${ROLLOUTS}/actions/abort`)
        .set(owner)
        .send({
          cluster: CLUSTER,
          workload: 'checkout',
          reason: 'done looking',
        });
      expect(aborted.status).toBe(200);
    });
  },
);
