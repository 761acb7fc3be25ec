import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { startKubeSim, KubeSim } from '@rust-delivery-portal/kube-sim';
import { ROLLOUT_ANNOTATIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CapturedAuditEvent } from '../harness/auditCapture';
import {
  changedObjects,
  settledSnapshot,
  snapshotNamespace,
} from '../harness/clusterSnapshot';
import {
  CLUSTER,
  RedTeamPortal,
  startRedTeamPortal,
} from '../harness/redTeamPortal';
import {
  PEOPLE,
  SEARCH_NS,
  SHOP_NS,
  redTeamEntities,
  redTeamObjects,
  redTeamUsers,
  ref,
} from '../harness/redTeamWorld';
import {
  GithubOidcIssuer,
  startGithubOidcIssuer,
} from '../harness/tokenIssuers';

jest.setTimeout(180_000);

/**
 * Issue 13's doors, each tried as an attacker would through the real HTTP stack of a backend
 * composed like packages/backend: every attempt must be refused with a 4xx and a message, audited,
 * and leave the target namespace exactly as it was (every object's metadata and spec, the
 * resourceVersion included). Positive controls show each refusal is the door, not a broken path.
 */
describe("red team: every door to another team's workload", () => {
  let sim: KubeSim;
  let github: GithubOidcIssuer;
  let portal: RedTeamPortal;
  const started = Date.now();
  const outcomes: Array<{ door: string; status: number }> = [];

  type Person = keyof typeof PEOPLE;
  const as = (who: Person) => portal.userHeader(PEOPLE[who].ref);
  const entityApi = (name: string, kind = 'component', namespace = 'default') =>
    `/api/rollouts/entities/${kind}/${namespace}/${name}`;

  /** Sends a request and notes its status under the door it tries. */
  async function attempt(door: string, req: Promise<any>) {
    const res = await req;
    outcomes.push({ door, status: res.status });
    return res;
  }

  function expectRefused(res: any, status: number, message?: RegExp) {
    expect({ status: res.status, body: res.body }).toMatchObject({
      status,
      body: { error: { message: expect.any(String) } },
    });
    expect(res.body.error.message.length).toBeGreaterThan(0);
    // A refusal must come from a rule, not from a call the backend failed to make on the way
    // (a CI principal's restricted token cannot be delegated to the catalog).
    expect(res.body.error.message).not.toMatch(/^Access to target plugin/);
    if (message) expect(res.body.error.message).toMatch(message);
  }

  const auditMark = async () => (await portal.audit()).length;

  /** Rollouts audit events since `from`, with their meta and end meta merged (what a log reader sees). */
  async function rolloutsAudit(from: number) {
    return (await portal.audit())
      .slice(from)
      .filter(e => e.pluginId === 'rollouts')
      .map(e => ({ ...e, all: { ...e.meta, ...e.endMeta } }));
  }

  function expectDeniedAudit(
    events: Array<CapturedAuditEvent & { all: Record<string, unknown> }>,
    target: Record<string, unknown>,
  ) {
    expect(events).toEqual([
      expect.objectContaining({
        severityLevel: 'medium',
        status: 'failed',
        error: expect.stringMatching(/^NotAllowedError/),
        all: expect.objectContaining(target),
      }),
    ]);
  }

  async function history(name: string) {
    const res = await portal
      .http()
      .get(`${entityApi(name)}/history?limit=1000`)
      .set(await as('sam'));
    expect(res.status).toBe(200);
    return res.body.items as any[];
  }

  async function view(name: string, who: Person = 'guest') {
    const res = await portal
      .http()
      .get(`${entityApi(name)}/rollouts`)
      .set(await as(who));
    return res;
  }

  const deploymentOf = (ns: string, name: string) =>
    sim.control.get('apps/v1', 'Deployment', ns, name);

  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.1 });
    await sim.control.apply(redTeamObjects());
    github = await startGithubOidcIssuer();
    portal = await startRedTeamPortal({
      kubeUrl: sim.url,
      entities: redTeamEntities(),
      github,
      users: redTeamUsers(),
    });
    await portal.waitForCatalog([
      ref('search-indexer'),
      ref('orders-api'),
      ref('checkout-web'),
      ref('ci-app'),
      ref('match-all'),
    ]);
    // team-search's own canary, paused for approval: the state the attacker finds and tries to move.
    const res = await portal
      .http()
      .post(`${entityApi('search-indexer')}/rollouts`)
      .set(await as('sam'))
      .send({
        cluster: CLUSTER,
        image: 'ghcr.io/acme-search/search-indexer:1.5.0',
        reason: 'weekly release',
      });
    if (res.status !== 201) {
      throw new Error(
        `the owner could not start search-indexer: ${
          res.status
        } ${JSON.stringify(res.body)}`,
      );
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const v = await view('search-indexer', 'sam');
      const item = v.body.items?.[0];
      if (item?.phase === 'Paused' && item.step.index === 1) break;
      if (Date.now() > deadline)
        throw new Error(`search-indexer never paused: ${JSON.stringify(item)}`);
      await new Promise(r => setTimeout(r, 300));
    }
  });

  afterAll(async () => {
    const byStatus = outcomes.reduce<Record<string, number>>((m, o) => {
      m[o.status] = (m[o.status] ?? 0) + 1;
      return m;
    }, {});
    console.log(
      `[reliability] red team: ${JSON.stringify({
        // Doors tried, apart from the positive controls and the attacker's own catalog registrations.
        doors: new Set(
          outcomes
            .map(o => o.door)
            .filter(d => !/\((control|register)\)$/.test(d)),
        ).size,
        requests: outcomes.length,
        attempts: outcomes.filter(o => !/\((control|register)\)$/.test(o.door))
          .length,
        byStatus,
        seconds: Math.round((Date.now() - started) / 1000),
        byDoor: outcomes.reduce<Record<string, Record<string, number>>>(
          (m, o) => {
            m[o.door] = m[o.door] ?? {};
            m[o.door][o.status] = (m[o.door][o.status] ?? 0) + 1;
            return m;
          },
          {},
        ),
      })}`,
    );
    await portal?.stop();
    await github?.close();
    await sim?.close();
  });

  const claim = (
    name: string,
    namespace = 'default',
    extra: Record<string, string> = {},
  ) =>
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${namespace}`,
      '  annotations:',
      '    backstage.io/kubernetes-id: search-indexer',
      `    backstage.io/kubernetes-namespace: ${SEARCH_NS}`,
      ...Object.entries(extra).map(([k, v]) => `    ${k}: ${v}`),
      'spec:',
      '  type: service',
      '  lifecycle: production',
      '  owner: user:default/guest',
      '',
    ].join('\n');

  /** Registers a catalog-info.yaml through POST /api/catalog/locations, as any signed-in user may. */
  async function register(name: string, yaml: string, who: Person = 'guest') {
    const target = portal.serveLocation(name, yaml);
    const res = await attempt(
      'self-claim (register)',
      portal
        .http()
        .post('/api/catalog/locations')
        .set(await as(who))
        .send({ type: 'url', target }),
    );
    // Registering is allowed (anyone may add entities): the binding on the cluster is the guard.
    expect(res.status).toBe(201);
  }

  describe('the Kubernetes proxy', () => {
    const proxyPath = `/api/kubernetes/proxy/apis/apps/v1/namespaces/${SEARCH_NS}/deployments/search-indexer`;
    const patch = JSON.stringify({
      spec: {
        template: {
          spec: { containers: [{ name: 'app', image: 'evil.example/pwn:2' }] },
        },
      },
    });

    it("refuses a normal user who PATCHes another team's Deployment image through the proxy (403), audited, cluster unchanged", async () => {
      const before = await settledSnapshot(sim, SEARCH_NS);
      const auditFrom = await auditMark();
      const res = await attempt(
        'proxy',
        portal
          .http()
          .patch(proxyPath)
          .set(await as('guest'))
          .set('Backstage-Kubernetes-Cluster', CLUSTER)
          .set('content-type', 'application/strategic-merge-patch+json')
          .send(patch),
      );
      expectRefused(res, 403);
      expect(res.body.error.name).toBe('NotAllowedError');
      expect(
        (await portal.audit())
          .slice(auditFrom)
          .filter(e => e.pluginId === 'kubernetes'),
      ).toContainEqual(
        expect.objectContaining({
          status: 'failed',
          error: expect.stringMatching(/^NotAllowedError/),
        }),
      );
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it('refuses a normal user reads through the proxy too, while the Kubernetes tab keeps working for them', async () => {
      const res = await attempt(
        'proxy',
        portal
          .http()
          .get(proxyPath)
          .set(await as('guest'))
          .set('Backstage-Kubernetes-Cluster', CLUSTER),
      );
      expectRefused(res, 403);
      const [entity] = await portal.waitForCatalog([ref('search-indexer')]);
      const tab = await attempt(
        'proxy (control)',
        portal
          .http()
          .post('/api/kubernetes/services/search-indexer')
          .set(await as('guest'))
          .send({ entity }),
      );
      expect(tab.status).toBe(200);
      const kinds = tab.body.items.flatMap((c: any) =>
        c.resources.map((r: any) => r.type),
      );
      expect(kinds).toContain('deployments');
    });

    it('lets a member of the proxy group (group:default/platform) read through it', async () => {
      const res = await attempt(
        'proxy (control)',
        portal
          .http()
          .get(proxyPath)
          .set(await as('pat'))
          .set('Backstage-Kubernetes-Cluster', CLUSTER),
      );
      expect(res.status).toBe(200);
      expect(res.body.metadata.name).toBe('search-indexer');
    });

    it('refuses the CI credentials on the proxy (their access is restricted to starting rollouts)', async () => {
      const before = await settledSnapshot(sim, SEARCH_NS);
      for (const header of [
        portal.staticCiHeader,
        portal.bearer(await github.mint({ repository: 'acme/ci-app' })),
      ]) {
        const res = await attempt(
          'proxy',
          portal
            .http()
            .patch(proxyPath)
            .set(header)
            .set('Backstage-Kubernetes-Cluster', CLUSTER)
            .set('content-type', 'application/strategic-merge-patch+json')
            .send(patch),
        );
        expectRefused(res, 403);
      }
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });
  });

  describe('a self-claimed entity (POST /api/catalog/locations)', () => {
    beforeAll(async () => {
      await register(
        'evil-claim',
        claim('evil-claim', 'default', {
          'github.com/project-slug': 'evil/claim',
          'rollouts.backstage.io/image-repository': 'evil.example/pwn',
        }),
      );
      await portal.waitForCatalog([ref('evil-claim')]);
    });

    it('shows the claimed workload read-only, saying whom it belongs to', async () => {
      const res = await view('evil-claim');
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          workload: 'search-indexer',
          allowedActions: [],
          binding: expect.objectContaining({
            status: 'elsewhere',
            entityRefs: [ref('search-indexer')],
            message: expect.stringContaining(ref('search-indexer')),
          }),
        }),
      ]);
    });

    it.each([
      'start',
      'promote',
      'promote-full',
      'abort',
      'rollback',
      'restart',
    ])(
      '%s through the claimed entity: 403 naming the owner, audited with its target, denied rows in both histories, cluster unchanged',
      async action => {
        const before = await settledSnapshot(sim, SEARCH_NS);
        const auditFrom = await auditMark();
        const reason = `claim ${action}`;
        const req =
          action === 'start'
            ? portal
                .http()
                .post(`${entityApi('evil-claim')}/rollouts`)
                .set(await as('guest'))
                .send({ cluster: CLUSTER, image: 'evil.example/pwn:2', reason })
            : portal
                .http()
                .post(`${entityApi('evil-claim')}/actions/${action}`)
                .set(await as('guest'))
                .send({ cluster: CLUSTER, reason });
        const res = await attempt('self-claim', req);
        expectRefused(res, 403, /search-indexer/);
        expectDeniedAudit(await rolloutsAudit(auditFrom), {
          action,
          entityRef: ref('evil-claim'),
          cluster: CLUSTER,
          namespace: SEARCH_NS,
          workload: 'search-indexer',
        });
        const denied = (rows: any[]) =>
          rows.filter(
            h =>
              h.actor === PEOPLE.guest.ref &&
              h.outcome === 'denied' &&
              h.action === action &&
              h.workload === 'search-indexer',
          );
        expect(denied(await history('evil-claim'))).toHaveLength(1);
        expect(denied(await history('search-indexer'))).toHaveLength(1);
        expect(
          changedObjects(before, snapshotNamespace(sim, SEARCH_NS)),
        ).toEqual([]);
        const state = JSON.parse(
          deploymentOf(SEARCH_NS, 'search-indexer').metadata.annotations[
            ROLLOUT_ANNOTATIONS.state
          ],
        );
        expect(state.entityRef).toBe(ref('search-indexer'));
      },
    );

    it("refuses its own GitHub identity too: the claimed entity's project-slug and image repository are its author's word", async () => {
      const before = await settledSnapshot(sim, SEARCH_NS);
      const res = await attempt(
        'self-claim + CI',
        portal
          .http()
          .post(`${entityApi('evil-claim')}/rollouts`)
          .set(portal.bearer(await github.mint({ repository: 'evil/claim' })))
          .send({ cluster: CLUSTER, image: 'evil.example/pwn:3' }),
      );
      expectRefused(res, 403, /search-indexer/);
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it("does not let a case variant of the victim's ref (Component:Default/Search-Indexer) take it over", async () => {
      await register('case-game', claim('Search-Indexer', 'Default'));
      // Give the catalog a few processing rounds to (wrongly) let the variant replace the original.
      await new Promise(r => setTimeout(r, 3000));
      const before = await settledSnapshot(sim, SEARCH_NS);
      const [entity] = await portal.waitForCatalog([ref('search-indexer')]);
      expect(entity.spec?.owner).toBe('group:default/team-search');
      const res = await attempt(
        'case games',
        portal
          .http()
          .post(
            `${entityApi(
              'Search-Indexer',
              'Component',
              'Default',
            )}/actions/promote`,
          )
          .set(await as('guest'))
          .send({ cluster: CLUSTER, reason: 'case game' }),
      );
      expectRefused(res, 403);
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it("gets nothing through a label selector that picks the engine's own canary Deployment", async () => {
      await register(
        'canary-claim',
        claim('canary-claim', 'default', {
          'backstage.io/kubernetes-label-selector':
            'rollouts.backstage.io/owner=search-indexer',
        }),
      );
      await portal.waitForCatalog([ref('canary-claim')]);
      // team-search's canary is in flight: its companion Deployment exists and carries the label.
      expect(
        sim.control.list(
          'apps/v1',
          'Deployment',
          SEARCH_NS,
          'rollouts.backstage.io/owner=search-indexer',
        ),
      ).not.toEqual([]);
      const before = await settledSnapshot(sim, SEARCH_NS);
      const seen = await view('canary-claim');
      expect(seen.status).toBe(200);
      expect(seen.body.items.flatMap((v: any) => v.allowedActions)).toEqual([]);
      for (const req of [
        portal
          .http()
          .post(`${entityApi('canary-claim')}/actions/abort`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER }),
        portal
          .http()
          .post(`${entityApi('canary-claim')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'evil.example/pwn:5' }),
      ]) {
        const res = await attempt('self-claim', req);
        expect([403, 404]).toContain(res.status);
        expectRefused(res, res.status);
      }
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it('keeps a claim in another catalog namespace (component:attacker/search-indexer) away too', async () => {
      await register('other-namespace', claim('search-indexer', 'attacker'));
      await portal.waitForCatalog(['component:attacker/search-indexer']);
      const before = await settledSnapshot(sim, SEARCH_NS);
      const res = await attempt(
        'self-claim',
        portal
          .http()
          .post(
            `${entityApi(
              'search-indexer',
              'component',
              'attacker',
            )}/actions/abort`,
          )
          .set(await as('guest'))
          .send({ cluster: CLUSTER, reason: 'same name, other namespace' }),
      );
      expectRefused(res, 403, new RegExp(ref('search-indexer')));
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });
  });

  describe('the CI identities', () => {
    const start = (
      name: string,
      header: Record<string, string>,
      image: string,
    ) =>
      portal
        .http()
        .post(`${entityApi(name)}/rollouts`)
        .set(header)
        .send({ cluster: CLUSTER, image });

    it("lets the static token start a rollout (the local scripts' path) and nothing else", async () => {
      const res = await attempt(
        'static token (control)',
        start(
          'script-app',
          portal.staticCiHeader,
          'ghcr.io/acme/script-app:1.1.0',
        ),
      );
      expect(res.status).toBe(201);
      await sim.control.waitFor(
        () =>
          deploymentOf(SHOP_NS, 'script-app').spec.template.spec.containers[0]
            .image === 'ghcr.io/acme/script-app:1.1.0',
      );
      const before = await settledSnapshot(sim, SHOP_NS);
      for (const action of [
        'promote',
        'abort',
        'rollback',
        'restart',
        'pause',
      ]) {
        const auditFrom = await auditMark();
        const denied = await attempt(
          'static token',
          portal
            .http()
            .post(`${entityApi('script-app')}/actions/${action}`)
            .set(portal.staticCiHeader)
            .send({ cluster: CLUSTER }),
        );
        expectRefused(denied, 403);
        expectDeniedAudit(await rolloutsAudit(auditFrom), {
          action,
          entityRef: ref('script-app'),
        });
      }
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });

    it.each([
      ['catalog entities', 'get', '/api/catalog/entities?limit=1'],
      ['catalog locations', 'post', '/api/catalog/locations'],
      ['kubernetes clusters', 'get', '/api/kubernetes/clusters'],
      ['permission decisions', 'post', '/api/permission/authorize'],
    ])(
      "refuses both CI credentials on other plugins' endpoints: %s (403)",
      async (_what, method, endpoint) => {
        for (const header of [
          portal.staticCiHeader,
          portal.bearer(await github.mint({ repository: 'acme/ci-app' })),
        ]) {
          const req = (portal.http() as any)[method](endpoint).set(header);
          const res = await attempt(
            'CI on other plugins',
            method === 'post' ? req.send({}) : req,
          );
          expect(res.status).toBe(403);
          expectRefused(res, 403);
        }
      },
    );

    it("refuses a GitHub identity of repository A starting entity B (another repository's project-slug)", async () => {
      const before = await settledSnapshot(sim, SEARCH_NS);
      const auditFrom = await auditMark();
      const res = await attempt(
        'GitHub OIDC: other entity',
        start(
          'search-indexer',
          portal.bearer(await github.mint({ repository: 'acme/ci-app' })),
          'ghcr.io/acme-search/search-indexer:6.6.6',
        ),
      );
      // The refusal names the repository the identity is for, not some other failure on the way.
      expectRefused(res, 403, /acme\/ci-app/i);
      expectDeniedAudit(await rolloutsAudit(auditFrom), {
        action: 'start',
        entityRef: ref('search-indexer'),
        cluster: CLUSTER,
        namespace: SEARCH_NS,
        workload: 'search-indexer',
        image: 'ghcr.io/acme-search/search-indexer:6.6.6',
      });
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it("refuses a repository whose name merely starts like the entity's (acme/ci-app-fork)", async () => {
      const before = await settledSnapshot(sim, SHOP_NS);
      const res = await attempt(
        'GitHub OIDC: other entity',
        start(
          'ci-app',
          portal.bearer(await github.mint({ repository: 'acme/ci-app-fork' })),
          'ghcr.io/acme/ci-app:6.6.6',
        ),
      );
      expectRefused(res, 403, /acme\/ci-app-fork/i);
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });

    it.each([
      'ghcr.io/acme/other:2.0.0',
      'ghcr.io/acme/ci-app-evil:2.0.0',
      'evil.example/ghcr.io/acme/ci-app:2.0.0',
      // Untagged: `latest` is not a build the entity's CI can be held to (the stricter reading).
      'ghcr.io/acme/ci-app',
    ])(
      'refuses its own entity with an image outside its image repository: %s (403 naming the repository)',
      async image => {
        const before = await settledSnapshot(sim, SHOP_NS);
        const res = await attempt(
          'GitHub OIDC: foreign image',
          start(
            'ci-app',
            portal.bearer(await github.mint({ repository: 'acme/ci-app' })),
            image,
          ),
        );
        expect(res.status).toBe(403);
        expectRefused(res, 403, /ghcr\.io\/acme\/ci-app\b/);
        expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
          [],
        );
      },
    );

    it.each([
      'ghcr.io/acme/ci-app/../other:2.0.0',
      'ghcr.io/acme/ci-app:2.0.0@sha256:abc',
      'ghcr.io/acme/ci-app:2.0.0 ghcr.io/acme/other:1',
    ])(
      'refuses its own entity with a malformed image that starts like its repository: %s (400 or 403)',
      async image => {
        const before = await settledSnapshot(sim, SHOP_NS);
        const res = await attempt(
          'GitHub OIDC: foreign image',
          start(
            'ci-app',
            portal.bearer(await github.mint({ repository: 'acme/ci-app' })),
            image,
          ),
        );
        expect([400, 403]).toContain(res.status);
        expectRefused(res, res.status);
        expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
          [],
        );
      },
    );

    it.each([
      ['the wrong audience', { audience: 'someone-else' }],
      [
        'the wrong issuer',
        { issuer: 'https://token.actions.githubusercontent.com.evil.example' },
      ],
      ['an expired token', { expiresIn: -120 }],
      ['a token signed by another key', { foreignKey: true }],
    ])('answers 401 to a GitHub token with %s', async (_what, options) => {
      const before = await settledSnapshot(sim, SHOP_NS);
      const token = await github.mint({
        repository: 'acme/ci-app',
        ...options,
      });
      const res = await attempt(
        'GitHub OIDC: bad token',
        start('ci-app', portal.bearer(token), 'ghcr.io/acme/ci-app:2.0.0'),
      );
      expectRefused(res, 401);
      expect(res.body.error.name).toBe('AuthenticationError');
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });

    it('refuses every action but start to a GitHub identity, even on its own entity', async () => {
      const token = await github.mint({ repository: 'acme/ci-app' });
      for (const action of ['promote', 'abort', 'rollback']) {
        const res = await attempt(
          'GitHub OIDC: actions',
          portal
            .http()
            .post(`${entityApi('ci-app')}/actions/${action}`)
            .set(portal.bearer(token))
            .send({ cluster: CLUSTER }),
        );
        expect(res.status).toBe(403);
        expectRefused(res, 403);
      }
    });

    it('lets a GitHub identity start its own entity with its own image (201), and the Deployment changes', async () => {
      const image = `ghcr.io/acme/ci-app:2.0.0@sha256:${'b'.repeat(64)}`;
      const token = await github.mint({
        repository: 'acme/ci-app',
        environment: 'production',
      });
      const res = await attempt(
        'GitHub OIDC (control)',
        start('ci-app', portal.bearer(token), image),
      );
      expect({
        status: res.status,
        body: res.status === 201 ? 'ok' : res.body,
      }).toEqual({ status: 201, body: 'ok' });
      await sim.control.waitFor(
        () =>
          deploymentOf(SHOP_NS, 'ci-app').spec.template.spec.containers[0]
            .image === image,
      );
      const rows = await history('ci-app');
      expect(rows).toContainEqual(
        expect.objectContaining({
          action: 'start',
          outcome: 'succeeded',
          actor: expect.stringContaining(
            'external:github-actions:repo:acme/ci-app:environment:production',
          ),
          image,
        }),
      );
    });
    it.each([
      'pull_request',
      'ref:refs/heads/feature-x',
      'environment:staging',
    ])(
      'refuses a token of the right repository from another context (sub repo:acme/ci-app:%s): production deploys only',
      async context => {
        // The stricter reading of the contract: the CI identity is the deploy job's
        // (environment:production or ref:refs/heads/main), not any workflow run of the repository.
        const before = await settledSnapshot(sim, SHOP_NS);
        const token = await github.mint({ repository: 'acme/ci-app', context });
        const res = await attempt(
          'GitHub OIDC: other context',
          start('ci-app', portal.bearer(token), 'ghcr.io/acme/ci-app:3.0.0'),
        );
        expect(res.status).toBe(403);
        expectRefused(res, 403);
        expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
          [],
        );
      },
    );
  });

  describe("the engine's companions", () => {
    it('neither overwrites nor deletes a squatted <name>-canary Deployment, and says so', async () => {
      const key = 'Deployment/orders-api-canary';
      const before = (await settledSnapshot(sim, SHOP_NS))[key];
      expect(before).toBeDefined();
      const res = await attempt(
        'companions',
        portal
          .http()
          .post(`${entityApi('orders-api')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'ghcr.io/acme/orders-api:2.0.0' }),
      );
      // Refused outright, or started and then paused by the engine: either way it names the squatter.
      const deadline = Date.now() + 20_000;
      let message = res.status === 201 ? '' : res.body.error?.message ?? '';
      while (
        res.status === 201 &&
        !/orders-api-canary/.test(message) &&
        Date.now() < deadline
      ) {
        await new Promise(r => setTimeout(r, 300));
        message = (await view('orders-api')).body.items?.[0]?.message ?? '';
      }
      expect(message).toMatch(/orders-api-canary/);
      // Give the reconcile loop several passes at it, then abort: the squatter must survive both.
      await new Promise(r => setTimeout(r, 2000));
      await attempt(
        'companions',
        portal
          .http()
          .post(`${entityApi('orders-api')}/actions/abort`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, reason: 'squatted' }),
      );
      await new Promise(r => setTimeout(r, 2000));
      expect(snapshotNamespace(sim, SHOP_NS)[key]).toEqual(before);
    });

    it.each([
      ['an active', 'checkout-web', 'ledger'],
      ['a preview', 'cart-web', 'ledger-preview'],
    ])(
      'does not switch %s Service that belongs to another entity (%s -> %s)',
      async (_role, workload, service) => {
        const key = `Service/${service}`;
        const before = (await settledSnapshot(sim, SHOP_NS))[key];
        expect(before).toBeDefined();
        const res = await attempt(
          'companions',
          portal
            .http()
            .post(`${entityApi(workload)}/rollouts`)
            .set(await as('guest'))
            .send({
              cluster: CLUSTER,
              image: `ghcr.io/acme/${workload}:2.1.0`,
            }),
        );
        // Refused outright (4xx), or started and then held by the engine: either way it names the Service.
        let message = res.status === 201 ? '' : res.body.error?.message ?? '';
        if (res.status === 201) {
          // Let the preview come up, then promote: the switch is where the Service would move.
          await new Promise(r => setTimeout(r, 3000));
          const promoted = await attempt(
            'companions',
            portal
              .http()
              .post(`${entityApi(workload)}/actions/promote`)
              .set(await as('guest'))
              .send({ cluster: CLUSTER }),
          );
          await new Promise(r => setTimeout(r, 3000));
          message = `${promoted.body.error?.message ?? ''} ${
            (await view(workload)).body.items?.[0]?.message ?? ''
          }`;
        }
        expect(
          res.status === 201 || (res.status >= 400 && res.status < 500),
        ).toBe(true);
        expect(message).toContain(service);
        expect(snapshotNamespace(sim, SHOP_NS)[key]).toEqual(before);
      },
    );
  });

  describe('selectors and namespaces', () => {
    it.each(['match-all', 'match-all-notin', 'match-all-neq'])(
      '%s (a selector with no positive requirement): 400 for views and actions',
      async name => {
        const before = await settledSnapshot(sim, SHOP_NS);
        const read = await attempt('match-all selector', view(name));
        expectRefused(read, 400);
        const start = await attempt(
          'match-all selector',
          portal
            .http()
            .post(`${entityApi(name)}/rollouts`)
            .set(await as('guest'))
            .send({ cluster: CLUSTER, image: 'ghcr.io/acme/x:1' }),
        );
        expectRefused(start, 400);
        const act = await attempt(
          'match-all selector',
          portal
            .http()
            .post(`${entityApi(name)}/actions/restart`)
            .set(await as('guest'))
            .send({ cluster: CLUSTER, workload: 'ledger' }),
        );
        expectRefused(act, 400);
        expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
          [],
        );
      },
    );

    it('answers 400 to an action on an entity without backstage.io/kubernetes-namespace, naming it', async () => {
      const before = await settledSnapshot(sim, SHOP_NS);
      for (const req of [
        portal
          .http()
          .post(`${entityApi('ci-app-anywhere')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'ghcr.io/acme/ci-app:9' }),
        portal
          .http()
          .post(`${entityApi('ci-app-anywhere')}/actions/restart`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER }),
      ]) {
        const res = await attempt('no namespace', req);
        expectRefused(res, 400, /backstage\.io\/kubernetes-namespace/);
      }
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });

    it('refuses a Deployment that names no entity in a namespace listing several (403, unbound)', async () => {
      const before = await settledSnapshot(sim, SHOP_NS);
      const v = await view('stray');
      expect(v.body.items?.[0]).toMatchObject({
        allowedActions: [],
        binding: { status: 'unbound' },
      });
      const res = await attempt(
        'namespace allow-list',
        portal
          .http()
          .post(`${entityApi('stray')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'ghcr.io/acme/stray:2' }),
      );
      expectRefused(res, 403, /stray/);
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });

    it('refuses a Deployment whose annotation names two entities, to the owners of either (403, contested)', async () => {
      const before = await settledSnapshot(sim, SHOP_NS);
      const v = await view('dual-a');
      expect(v.body.items?.[0]).toMatchObject({
        allowedActions: [],
        binding: { status: 'contested' },
      });
      const res = await attempt(
        'two entities on one Deployment',
        portal
          .http()
          .post(`${entityApi('dual-a')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'ghcr.io/acme/dual:2' }),
      );
      expectRefused(res, 403, /dual/);
      expect(changedObjects(before, snapshotNamespace(sim, SHOP_NS))).toEqual(
        [],
      );
    });
  });

  describe('history and audit', () => {
    it("collapses 50 denied attempts of one actor into one row with count 50; the owner's events stay in view", async () => {
      const before = await settledSnapshot(sim, SEARCH_NS);
      const header = await as('mallory');
      for (let i = 0; i < 50; i++) {
        const res = await attempt(
          'history flooding',
          portal
            .http()
            .post(`${entityApi('search-indexer')}/actions/promote`)
            .set(header)
            .send({ cluster: CLUSTER, reason: `${'x'.repeat(990)} ${i}` }),
        );
        expect(res.status).toBe(403);
      }
      const res = await portal
        .http()
        .get(`${entityApi('search-indexer')}/history`)
        .set(await as('sam'));
      expect(res.status).toBe(200);
      const mine = res.body.items.filter(
        (h: any) => h.actor === PEOPLE.mallory.ref,
      );
      expect(mine).toEqual([
        expect.objectContaining({
          outcome: 'denied',
          action: 'promote',
          count: 50,
          lastAt: expect.any(String),
        }),
      ]);
      expect(res.body.items).toContainEqual(
        expect.objectContaining({
          actor: PEOPLE.sam.ref,
          action: 'start',
          outcome: 'succeeded',
        }),
      );
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it("collapses denials that come through several self-registered entities into one row on the target's history", async () => {
      const names = [1, 2, 3, 4, 5].map(i => `flood-${i}`);
      for (const name of names) await register(name, claim(name), 'mallory');
      await portal.waitForCatalog(names.map(ref));
      const before = await settledSnapshot(sim, SEARCH_NS);
      for (const name of names) {
        const res = await attempt(
          'history flooding',
          portal
            .http()
            .post(`${entityApi(name)}/actions/abort`)
            .set(await as('mallory'))
            .send({ cluster: CLUSTER, reason: `through ${name}` }),
        );
        expect(res.status).toBe(403);
      }
      const rows = (await history('search-indexer')).filter(
        h => h.actor === PEOPLE.mallory.ref && h.action === 'abort',
      );
      expect(rows).toEqual([
        expect.objectContaining({ outcome: 'denied', count: names.length }),
      ]);
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });

    it("audits an owner's start and action with cluster, namespace, workload, image, step, revision and reason", async () => {
      const image = 'ghcr.io/acme/audit-app:2.0.0';
      let auditFrom = await auditMark();
      const startRes = await attempt(
        'audit of actions (control)',
        portal
          .http()
          .post(`${entityApi('audit-app')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image, reason: 'release 2.0.0' }),
      );
      expect(startRes.status).toBe(201);
      const target = {
        cluster: CLUSTER,
        namespace: SHOP_NS,
        workload: 'audit-app',
        image,
      };
      expect(await rolloutsAudit(auditFrom)).toEqual([
        expect.objectContaining({
          eventId: 'rollout-start',
          status: 'succeeded',
          all: expect.objectContaining({
            ...target,
            entityRef: ref('audit-app'),
            actor: PEOPLE.guest.ref,
            action: 'start',
            reason: 'release 2.0.0',
            revision: expect.any(Number),
            step: expect.any(Number),
          }),
        }),
      ]);
      const deadline = Date.now() + 30_000;
      let v = (await view('audit-app')).body.items[0];
      while (
        !(v.phase === 'Paused' && v.step.index === 1) &&
        Date.now() < deadline
      ) {
        await new Promise(r => setTimeout(r, 300));
        v = (await view('audit-app')).body.items[0];
      }
      auditFrom = await auditMark();
      const promoted = await attempt(
        'audit of actions (control)',
        portal
          .http()
          .post(`${entityApi('audit-app')}/actions/promote`)
          .set(await as('guest'))
          .send({
            cluster: CLUSTER,
            stepIndex: v.step.index,
            revision: v.revision,
            reason: 'looks good',
          }),
      );
      expect(promoted.status).toBe(200);
      expect(await rolloutsAudit(auditFrom)).toEqual([
        expect.objectContaining({
          eventId: 'rollout-action',
          status: 'succeeded',
          all: expect.objectContaining({
            ...target,
            entityRef: ref('audit-app'),
            actor: PEOPLE.guest.ref,
            action: 'promote',
            step: v.step.index,
            revision: v.revision,
            reason: 'looks good',
          }),
        }),
      ]);
    });
  });

  // Last: if this door is open, search-indexer changes hands and the tests above would not hold.
  describe('taking over the entity ref the workload names', () => {
    it("refuses deleting another team's entity, and a re-registration of its ref gets no workload", async () => {
      const [victim] = await portal.waitForCatalog([ref('search-indexer')]);
      const before = await settledSnapshot(sim, SEARCH_NS);
      const deleted = await attempt(
        'entity takeover',
        portal
          .http()
          .delete(`/api/catalog/entities/by-uid/${victim.metadata.uid}`)
          .set(await as('guest')),
      );
      // Whoever holds the ref the cluster names holds the workload: deleting it must be refused.
      expect(deleted.status).toBe(403);
      await register('takeover', claim('search-indexer'));
      await new Promise(r => setTimeout(r, 3000));
      const [entity] = await portal.waitForCatalog([ref('search-indexer')]);
      expect(entity.spec?.owner).toBe('group:default/team-search');
      const res = await attempt(
        'entity takeover',
        portal
          .http()
          .post(`${entityApi('search-indexer')}/rollouts`)
          .set(await as('guest'))
          .send({ cluster: CLUSTER, image: 'evil.example/pwn:4' }),
      );
      expectRefused(res, 403);
      expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
        [],
      );
    });
  });

  describe('the development configuration', () => {
    it('listens on 127.0.0.1 and ships no usable static token (app-config.yaml)', async () => {
      const config = parse(
        fs.readFileSync(
          path.join(
            resolvePackagePath('@internal/reliability-tests'),
            '../../app-config.yaml',
          ),
          'utf8',
        ),
      );
      expect(config.backend.listen.host).toBe('127.0.0.1');
      const entries: any[] = config.backend.auth.externalAccess ?? [];
      // Every external credential reaches the rollouts plugin and nothing else.
      expect(
        entries.map(a =>
          (a.accessRestrictions ?? []).map((r: any) => r.plugin),
        ),
      ).toEqual(entries.map(() => ['rollouts']));
      // Static tokens come from an environment variable with no literal default: a per-machine
      // token (make start generates one), not one in git.
      const statics = entries.filter(a => a.type === 'static');
      expect(statics.map(a => a.options.token)).toEqual(
        statics.map(() => expect.stringMatching(/^\$\{[A-Z_]+\}$/)),
      );
    });
  });
});
