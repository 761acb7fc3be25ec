import { Entity } from '@backstage/catalog-model';
import { startKubeSim, KubeSim } from '@rust-delivery-portal/kube-sim';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
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
  redTeamEntities,
  redTeamObjects,
  redTeamUsers,
  ref,
} from '../harness/redTeamWorld';
import { TEMPLATE_DIR } from '../harness/scaffolder';
import {
  GithubOidcIssuer,
  startGithubOidcIssuer,
} from '../harness/tokenIssuers';

jest.setTimeout(240_000);

/**
 * The template's door: the Rust service template, run for real (not a dry run) by a signed-in
 * user through the scaffolder's task API, with its local target whose last step applies the
 * manifests to the cluster. Naming an existing service of another team, or a system namespace,
 * must fail with a message before anything is written.
 */
describe('red team: the Rust service template takes nothing over', () => {
  let sim: KubeSim;
  let github: GithubOidcIssuer;
  let portal: RedTeamPortal;
  let tmp: string;
  const runs: Array<{
    name: string;
    namespace: string;
    status: string;
    seconds: number;
  }> = [];

  function templateEntity(): Entity {
    const file = path.join(TEMPLATE_DIR, 'template.yaml');
    const entity = parse(fs.readFileSync(file, 'utf8')) as Entity;
    entity.metadata.annotations = {
      ...entity.metadata.annotations,
      // fetch:template resolves ./skeleton against the location the template was read from.
      'backstage.io/managed-by-location': `file:${file}`,
      'backstage.io/managed-by-origin-location': `file:${file}`,
    };
    return entity;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'red-team-template-'));
    fs.mkdirSync(path.join(tmp, 'work'));
    fs.mkdirSync(path.join(tmp, 'services'));
    sim = await startKubeSim({ timeScale: 0.1 });
    await sim.control.apply(redTeamObjects());
    github = await startGithubOidcIssuer();
    portal = await startRedTeamPortal({
      kubeUrl: sim.url,
      entities: [...redTeamEntities(), templateEntity()],
      github,
      users: redTeamUsers(),
      scaffolder: {
        workingDirectory: path.join(tmp, 'work'),
        localDirectory: path.join(tmp, 'services'),
      },
    });
    await portal.waitForCatalog([
      ref('search-indexer'),
      'template:default/rust-service',
    ]);
  });

  afterAll(async () => {
    console.log(`[reliability] red team template: ${JSON.stringify({ runs })}`);
    await portal?.stop();
    await github?.close();
    await sim?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs the template as Guest and returns how the task ended and what its log said. */
  async function runTemplate(values: Record<string, unknown>) {
    const began = Date.now();
    const header = await portal.userHeader(PEOPLE.guest.ref);
    const created = await portal
      .http()
      .post('/api/scaffolder/v2/tasks')
      .set(header)
      .send({ templateRef: 'template:default/rust-service', values });
    expect(created.status).toBe(201);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const task = await portal
        .http()
        .get(`/api/scaffolder/v2/tasks/${created.body.id}`)
        .set(header);
      if (['completed', 'failed', 'cancelled'].includes(task.body.status)) {
        const events = await portal
          .http()
          .get(`/api/scaffolder/v2/tasks/${created.body.id}/events`)
          .set(header);
        const log = (events.body as any[])
          .map(e => String(e.body?.message ?? ''))
          .join('\n');
        runs.push({
          name: String(values.name),
          namespace: String(values.namespace),
          status: task.body.status,
          seconds: Math.round((Date.now() - began) / 100) / 10,
        });
        return { status: task.body.status as string, log };
      }
      if (Date.now() > deadline)
        throw new Error(`task ${created.body.id} did not end in time`);
      await new Promise(r => setTimeout(r, 500));
    }
  }

  const values = (name: string, namespace: string) => ({
    name,
    description: 'Indexes everything',
    owner: 'group:default/team-rust',
    port: 8080,
    strategy: 'RollingUpdate',
    cluster: CLUSTER,
    namespace,
    target: 'local',
  });

  it("fails scaffolding search-indexer into namespace search, naming the object and its owner; team-search's objects unchanged", async () => {
    const before = await settledSnapshot(sim, SEARCH_NS);
    const { status, log } = await runTemplate(
      values('search-indexer', SEARCH_NS),
    );
    expect(status).toBe('failed');
    expect(log).toMatch(/search-indexer/);
    expect(log).toContain(ref('search-indexer'));
    expect(changedObjects(before, snapshotNamespace(sim, SEARCH_NS))).toEqual(
      [],
    );
  });

  it('fails scaffolding into a kube-* namespace, writing nothing there', async () => {
    const before = snapshotNamespace(sim, 'kube-system');
    const { status, log } = await runTemplate(
      values('evil-daemon', 'kube-system'),
    );
    expect(status).toBe('failed');
    expect(log).toMatch(/kube-/);
    expect(
      changedObjects(before, snapshotNamespace(sim, 'kube-system')),
    ).toEqual([]);
  });

  it('still creates a new service in a namespace of its own (the positive control)', async () => {
    const { status, log } = await runTemplate(values('fresh-svc', 'fresh'));
    expect({ status, log: status === 'completed' ? '' : log }).toEqual({
      status: 'completed',
      log: '',
    });
    expect(
      sim.control.get('apps/v1', 'Deployment', 'fresh', 'fresh-svc'),
    ).toBeDefined();
  });
});
