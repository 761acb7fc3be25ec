import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  ROLLOUT_ANNOTATIONS,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { TestCluster, clusterTargets } from '@internal/kube-real';
import rolloutsPlugin from '../index';
import {
  OWNER,
  STRANGER,
  component,
  kubernetesConfig,
  pollUntil,
  readOrActors,
  recordingAuditor,
  recordingMessaging,
  rolloutsRequests,
  testRootLogger,
} from '../testing/routerTestBackend';

/**
 * Argo Rollouts through the REST API, on both targets: kube-sim's Rollout kind with its simulated
 * Argo controller, and a real API server (1.20.2) with our Rollout CRD (status and scale
 * subresources) and the same simulated controller run against it (packages/kube-real). The
 * requests each action sends (recorded by kube-sim, or by the proxy in front of the real server)
 * are the kubectl-argo-rollouts plugin's, through the same authorization, binding check, audit and
 * history as the engine's own; on the real server they are also what its merge-patch and status
 * subresource handling accept.
 */

// The real control plane adds up to a minute of start-up on a busy machine.
jest.setTimeout(240_000);

const GV = 'argoproj.io/v1alpha1';
const PATH = `/apis/${GV}/namespaces/shop/rollouts`;

function rollout(
  name: string,
  strategy: object,
  boundTo = `component:default/${name}`,
) {
  return {
    apiVersion: GV,
    kind: 'Rollout',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app: name, 'backstage.io/kubernetes-id': name },
      annotations: { [ROLLOUT_ANNOTATIONS.entity]: boundTo },
    },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: `ghcr.io/acme/${name}:1.0.0` }],
        },
      },
      strategy,
    },
  };
}

const CANARY = {
  canary: {
    steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
  },
};

const NAMES = ['web', 'api', 'cart', 'ledger'];

describe.each(clusterTargets())(
  'Argo Rollouts through the rollouts API on $name',
  target => {
    // Each test has its own Rollout (web, api, cart; ledger is bound elsewhere): one cluster serves all.
    let sim: TestCluster;

    beforeAll(async () => {
      sim = await target.start({ timeScale: 0.05, crds: ['argo-rollouts'] });
      await sim.control.apply([
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
        rollout('web', CANARY),
        rollout('api', CANARY),
        rollout('cart', CANARY),
        rollout('ledger', CANARY, 'component:default/someone-else'),
      ]);
      await sim.control.waitFor(
        () =>
          NAMES.every(
            n =>
              sim.control.get(GV, 'Rollout', 'shop', n)?.status?.phase ===
              'Healthy',
          ),
        60_000,
      );
    });

    afterAll(async () => {
      await sim?.close();
    });

    async function start() {
      const { events: auditEvents, auditor } = recordingAuditor();
      const permissions = readOrActors([OWNER]);
      const { signals, factories } = recordingMessaging();
      const backend = await startTestBackend({
        features: [
          rolloutsPlugin,
          testRootLogger(),
          mockServices.scheduler.factory(),
          auditor.factory,
          permissions.factory,
          catalogServiceMock.factory({
            entities: NAMES.map(name => component(name)),
          }),
          ...factories,
          mockServices.rootConfig.factory({
            data: {
              kubernetes: kubernetesConfig([
                { name: 'sim', url: sim.url, token: sim.token },
              ]),
              rollouts: { readCacheSeconds: 0 },
            },
          }),
        ],
      });
      const app = backend.server;
      const owner = mockCredentials.user.header(OWNER);
      const api = rolloutsRequests(app, { defaultAuth: owner });
      async function view(name: string, as = owner): Promise<RolloutView> {
        const items = await api.views(name, as);
        expect(items).toHaveLength(1);
        return items[0];
      }
      const waitFor = (
        name: string,
        predicate: (v: RolloutView) => boolean,
        what: string,
      ) =>
        pollUntil({
          look: () => view(name),
          predicate,
          what,
          timeoutMs: 60_000,
          intervalMs: 50,
        });
      const action = api.action;
      const history = (name: string) => api.historyItems(name, owner);
      return { backend, view, waitFor, action, history, auditEvents, signals };
    }

    async function setImage(name: string, image: string) {
      const res = await sim.rest.request(
        'PATCH',
        `${PATH}/${name}`,
        {
          spec: {
            template: { spec: { containers: [{ name: 'app', image }] } },
          },
        },
        'application/merge-patch+json',
      );
      expect(res.status).toBe(200);
    }

    /** What the backend wrote to Rollouts (and Deployments) since the last reset. */
    const writes = () =>
      sim.control
        .writes()
        .filter(
          w => w.path.includes('/rollouts') || w.path.includes('/deployments'),
        )
        .map(w => ({
          method: w.method,
          path: w.path,
          contentType: w.contentType,
          body: w.body,
          status: w.status,
        }));

    it('shows an Argo Rollout with its controller, and owners promote, abort, retry and undo it with the plugin patches', async () => {
      const { backend, waitFor, action, history, auditEvents, signals } =
        await start();
      const healthy = await waitFor(
        'web',
        v => v.phase === 'Healthy',
        'web healthy',
      );
      expect(healthy).toMatchObject({
        controller: 'argo-rollouts',
        cluster: 'sim',
        namespace: 'shop',
        workload: 'web',
        strategy: 'Canary',
        step: { index: 4, total: 4 },
        binding: { status: 'bound' },
        stableImage: 'ghcr.io/acme/web:1.0.0',
      });

      await setImage('web', 'ghcr.io/acme/web:2.0.0');
      const paused = await waitFor(
        'web',
        v => v.phase === 'Paused',
        'the first pause',
      );
      expect(paused).toMatchObject({
        message: 'CanaryPauseStep',
        step: { index: 1, total: 4 },
        weight: { desired: 25, method: 'replica-ratio' },
        pause: { reason: 'CanaryPauseStep' },
        targetImage: 'ghcr.io/acme/web:2.0.0',
        revision: 2,
      });
      expect(paused.allowedActions).toEqual(
        expect.arrayContaining([
          'promote',
          'promote-full',
          'abort',
          'rollback',
        ]),
      );
      expect(paused.revisions.map(r => [r.revision, r.role, r.image])).toEqual([
        [2, 'canary', 'ghcr.io/acme/web:2.0.0'],
        [1, 'stable', 'ghcr.io/acme/web:1.0.0'],
      ]);

      // the pages of the bound entity hear of the change (Argo's controller moved it, not the engine)
      expect(signals.publish).toHaveBeenCalledWith(
        expect.objectContaining({
          channel: expect.stringContaining('component:default/web'),
          message: expect.objectContaining({
            workload: 'web',
            phase: 'Paused',
            cause: 'argo-rollouts',
          }),
        }),
      );

      // promote: one merge patch of the status subresource
      sim.control.resetWrites();
      const promoted = await action('web', 'promote', {
        cluster: 'sim',
        reason: 'looks good',
        stepIndex: 1,
        revision: 2,
      });
      expect(promoted.status).toBe(200);
      expect(writes()).toEqual([
        {
          method: 'PATCH',
          path: `${PATH}/web/status`,
          contentType: 'application/merge-patch+json',
          body: { status: { pauseConditions: null } },
          status: 200,
        },
      ]);
      await waitFor(
        'web',
        v => v.phase === 'Paused' && v.step.index === 3,
        'the second pause',
      );

      // a stale step is refused and nothing is sent
      sim.control.resetWrites();
      const stale = await action('web', 'promote', {
        cluster: 'sim',
        stepIndex: 1,
      });
      expect(stale.status).toBe(409);
      expect(writes()).toEqual([]);

      // abort, then retry
      const aborted = await action('web', 'abort', {
        cluster: 'sim',
        reason: 'errors up',
      });
      expect(aborted.status).toBe(200);
      const afterAbort = await waitFor(
        'web',
        v => v.phase === 'Aborted',
        'aborted',
      );
      expect(afterAbort.message).toBe(
        'RolloutAborted: Rollout aborted update to revision 2',
      );
      expect(afterAbort.allowedActions).toContain('retry');
      const retried = await action('web', 'retry', { cluster: 'sim' });
      expect(retried.status).toBe(200);
      expect(writes()).toEqual([
        expect.objectContaining({
          path: `${PATH}/web/status`,
          body: { status: { abort: true } },
          status: 200,
        }),
        expect.objectContaining({
          path: `${PATH}/web/status`,
          body: { status: { abort: false } },
          status: 200,
        }),
      ]);
      await waitFor(
        'web',
        v => v.phase === 'Paused' && v.step.index === 1,
        'paused again after retry',
      );

      // promote-full, then undo back to revision 1 by a JSON patch of /spec/template
      sim.control.resetWrites();
      expect(
        (await action('web', 'promote-full', { cluster: 'sim' })).status,
      ).toBe(200);
      await waitFor(
        'web',
        v =>
          v.phase === 'Healthy' && v.stableImage === 'ghcr.io/acme/web:2.0.0',
        'fully promoted',
      );
      expect(
        (
          await action('web', 'rollback', {
            cluster: 'sim',
            reason: 'back to 1.0.0',
          })
        ).status,
      ).toBe(200);
      expect(writes()).toEqual([
        expect.objectContaining({
          path: `${PATH}/web/status`,
          body: { status: { promoteFull: true } },
        }),
        {
          method: 'PATCH',
          path: `${PATH}/web`,
          contentType: 'application/json-patch+json',
          body: [
            {
              op: 'replace',
              path: '/spec/template',
              value: expect.objectContaining({
                // The ReplicaSet's template as the server stores it (a real server adds its
                // defaults and `creationTimestamp: null`), without the hash label.
                metadata: expect.objectContaining({ labels: { app: 'web' } }),
                spec: expect.objectContaining({
                  containers: [
                    expect.objectContaining({
                      name: 'app',
                      image: 'ghcr.io/acme/web:1.0.0',
                    }),
                  ],
                }),
              }),
            },
          ],
          status: 200,
        },
      ]);
      await waitFor(
        'web',
        v => v.targetImage === 'ghcr.io/acme/web:1.0.0',
        'rolling back to 1.0.0',
      );
      expect(
        sim.control.get(GV, 'Rollout', 'shop', 'web').spec.template.spec
          .containers[0].image,
      ).toBe('ghcr.io/acme/web:1.0.0');

      // each action audited and in the history
      const actions = auditEvents.filter(e => e.eventId === 'rollout-action');
      expect(actions.map(e => [e.meta.action, e.outcome])).toEqual([
        ['promote', 'success'],
        ['promote', 'fail'],
        ['abort', 'success'],
        ['retry', 'success'],
        ['promote-full', 'success'],
        ['rollback', 'success'],
      ]);
      expect(actions[0].meta).toMatchObject({
        cluster: 'sim',
        namespace: 'shop',
        workload: 'web',
        reason: 'looks good',
      });
      const rows = await history('web');
      expect(rows.map(r => [r.action, r.outcome]).reverse()).toEqual([
        ['promote', 'succeeded'],
        ['promote', 'failed'],
        ['abort', 'succeeded'],
        ['retry', 'succeeded'],
        ['promote-full', 'succeeded'],
        ['rollback', 'succeeded'],
      ]);
      expect(rows.find(r => r.action === 'abort')).toMatchObject({
        reason: 'errors up',
        stepIndex: 3,
        revision: 2,
      });
      await backend.stop();
    });

    it('refuses a stranger (403) and a Rollout bound to another entity (read-only), sending nothing', async () => {
      const { backend, view, waitFor, action, history, auditEvents } =
        await start();
      await setImage('api', 'ghcr.io/acme/api:2.0.0');
      await waitFor('api', v => v.phase === 'Paused', 'api paused');
      sim.control.resetWrites();
      const stranger = mockCredentials.user.header(STRANGER);
      const denied = await action(
        'api',
        'promote',
        { cluster: 'sim' },
        stranger,
      );
      expect(denied.status).toBe(403);
      const strangerView = await view('api', stranger);
      expect(strangerView.allowedActions).toEqual([]);

      const ledger = await view('ledger');
      expect(ledger.binding).toMatchObject({
        status: 'elsewhere',
        entityRefs: ['component:default/someone-else'],
      });
      expect(ledger.allowedActions).toEqual([]);
      const elsewhere = await action('ledger', 'restart', { cluster: 'sim' });
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.error.message).toMatch(/someone-else/);
      expect(writes()).toEqual([]);

      expect(
        auditEvents
          .filter(e => e.eventId === 'rollout-action')
          .map(e => [e.meta.workload, e.outcome]),
      ).toEqual([
        ['api', 'fail'],
        ['ledger', 'fail'],
      ]);
      expect((await history('api'))[0]).toMatchObject({
        action: 'promote',
        outcome: 'denied',
        actor: STRANGER,
      });
      expect((await history('ledger'))[0]).toMatchObject({
        action: 'restart',
        outcome: 'denied',
      });
      await backend.stop();
    });

    it('refuses an abort once a full promotion is under way (argo-rollouts#4461), with the reason', async () => {
      const { backend, waitFor, action } = await start();
      // A broken image never becomes available, so the full promotion stays in flight.
      await setImage('cart', 'ghcr.io/acme/cart:2.0.0-broken');
      await waitFor(
        'cart',
        v => v.step.index === 0 && v.targetImage !== undefined,
        'cart updating',
      );
      expect(
        (await action('cart', 'promote-full', { cluster: 'sim' })).status,
      ).toBe(200);
      const view = await waitFor(
        'cart',
        v => v.warning !== undefined,
        'the promote-full warning',
      );
      expect(view.warning).toMatch(/argo-rollouts#4461/);
      expect(view.allowedActions).not.toContain('abort');
      sim.control.resetWrites();
      const refused = await action('cart', 'abort', { cluster: 'sim' });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/ignores an abort/);
      expect(writes()).toEqual([]);
      await backend.stop();
    });
  },
);
