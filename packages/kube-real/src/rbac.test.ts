import { resolve } from 'node:path';
import { kubectl } from './kubectl';
import { tokenKubeconfig } from './kubeconfig';
import { RealCluster, startRealCluster } from './RealCluster';
import { ApiClient, ApiError } from './agent/ApiClient';

const RBAC = resolve(
  __dirname,
  '..',
  '..',
  '..',
  'plugins',
  'rollouts-backend',
  'rbac',
);
const TOKEN_USERS = resolve(__dirname, '..', 'manifests', 'token-users.yaml');

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    if (e instanceof ApiError) return e.statusCode;
    throw e;
  }
}

const deployment = (name: string, image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'payments' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image }] },
    },
  },
});

/**
 * The portal's least-privilege roles (plugins/rollouts-backend/rbac) on a real API server with
 * RBAC: what the Kubernetes plugin's reader and the rollouts engine may and may not do.
 */
describe('the portal RBAC roles on a real API server', () => {
  let cluster: RealCluster;
  let admin: ApiClient;
  let reader: ApiClient;
  let engine: ApiClient;

  beforeAll(async () => {
    cluster = await startRealCluster({ nodes: 0 });
    const config = cluster.kubeconfig();
    for (const file of [
      `${RBAC}/rollouts-engine.yaml`,
      `${RBAC}/kubernetes-plugin-reader.yaml`,
      TOKEN_USERS,
    ]) {
      await kubectl(config, ['apply', '-f', file]);
    }
    await kubectl(config, ['create', 'namespace', 'payments']);
    admin = ApiClient.fromKubeconfig(config);
    reader = ApiClient.fromKubeconfig(cluster.kubeconfig('reader'));
    engine = ApiClient.fromKubeconfig(cluster.kubeconfig('engine'));
    await admin.request(
      'POST',
      '/apis/apps/v1/namespaces/payments/deployments',
      deployment('payments-api', 'acme/payments:1'),
    );
    await admin.request('POST', '/api/v1/namespaces/payments/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      stringData: { password: 'x' },
    });
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('lets the Kubernetes plugin reader list and watch workloads, and nothing more', async () => {
    const list = await reader.request('GET', '/apis/apps/v1/deployments');
    expect(list.items.map((d: any) => d.metadata.name)).toContain(
      'payments-api',
    );
    expect(
      await statusOf(reader.request('GET', '/api/v1/namespaces/payments/pods')),
    ).toBe(200);
    expect(await statusOf(reader.request('GET', '/api/v1/services'))).toBe(200);
    expect(
      await statusOf(
        reader.request(
          'GET',
          '/apis/apps/v1/deployments?watch=1&timeoutSeconds=1',
        ),
      ),
    ).toBe(200);

    const patch = reader.request(
      'PATCH',
      '/apis/apps/v1/namespaces/payments/deployments/payments-api',
      { spec: { replicas: 5 } },
      'application/merge-patch+json',
    );
    await expect(patch).rejects.toMatchObject({
      statusCode: 403,
      body: expect.objectContaining({
        reason: 'Forbidden',
        message: expect.stringContaining(
          'User "kubernetes-reader" cannot patch resource "deployments"',
        ),
      }),
    });
    expect(
      await statusOf(
        reader.request('GET', '/api/v1/namespaces/payments/secrets'),
      ),
    ).toBe(403);
    expect(
      await statusOf(
        reader.request(
          'DELETE',
          '/apis/apps/v1/namespaces/payments/deployments/payments-api',
        ),
      ),
    ).toBe(403);
    // kubectl says the same in its words.
    await expect(
      kubectl(cluster.kubeconfig('reader'), [
        '-n',
        'payments',
        'scale',
        'deployment/payments-api',
        '--replicas=2',
      ]),
    ).rejects.toThrow(/forbidden/i);
  });

  it('lets the engine create, update and delete Deployments and update Services, but not read Secrets', async () => {
    const path = '/apis/apps/v1/namespaces/payments/deployments';
    await engine.request(
      'POST',
      path,
      deployment('payments-api-canary', 'acme/payments:2'),
    );
    const updated = await replace(engine, `${path}/payments-api-canary`, d => {
      d.spec.replicas = 2;
    });
    expect(updated.spec.replicas).toBe(2);
    await engine.request(
      'PATCH',
      `${path}/payments-api`,
      {
        spec: {
          template: {
            spec: { containers: [{ name: 'app', image: 'acme/payments:2' }] },
          },
        },
      },
      'application/strategic-merge-patch+json',
    );
    expect(
      await statusOf(engine.request('DELETE', `${path}/payments-api-canary`)),
    ).toBe(200);

    const service = await engine.request(
      'POST',
      '/api/v1/namespaces/payments/services',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'payments-api' },
        spec: { selector: { app: 'payments-api' }, ports: [{ port: 80 }] },
      },
    );
    expect(service.spec.clusterIP).toMatch(/^10\.96\./);
    const switched = await replace(
      engine,
      '/api/v1/namespaces/payments/services/payments-api',
      s => {
        s.spec.selector = { app: 'payments-api', role: 'stable' };
      },
    );
    expect(switched.spec.selector.role).toBe('stable');

    const secret = engine.request(
      'GET',
      '/api/v1/namespaces/payments/secrets/db',
    );
    await expect(secret).rejects.toMatchObject({
      statusCode: 403,
      body: expect.objectContaining({
        message: expect.stringContaining(
          'User "rollouts-engine" cannot get resource "secrets"',
        ),
      }),
    });
    expect(await statusOf(engine.request('GET', '/api/v1/secrets'))).toBe(403);
    expect(
      await statusOf(
        engine.request(
          'GET',
          '/apis/rbac.authorization.k8s.io/v1/clusterroles',
        ),
      ),
    ).toBe(403);
    expect(
      await statusOf(engine.request('DELETE', '/api/v1/namespaces/payments')),
    ).toBe(403);
  });

  it('gives the roles ServiceAccounts whose token-controller tokens act the same', async () => {
    const sa = await until(async () => {
      const a = await admin.request(
        'GET',
        '/api/v1/namespaces/backstage/serviceaccounts/kubernetes-reader',
      );
      return a.secrets?.length ? a : undefined;
    });
    const secret = await admin.request(
      'GET',
      `/api/v1/namespaces/backstage/secrets/${sa.secrets[0].name}`,
    );
    const saToken = Buffer.from(secret.data.token, 'base64').toString('utf8');
    const asServiceAccount = ApiClient.fromKubeconfig(
      tokenKubeconfig(
        cluster.url,
        { data: cluster.caData },
        'kubernetes-reader-sa',
        saToken,
      ),
    );
    expect(
      await statusOf(
        asServiceAccount.request('GET', '/apis/apps/v1/deployments'),
      ),
    ).toBe(200);
    expect(
      await statusOf(asServiceAccount.request('GET', '/api/v1/secrets')),
    ).toBe(403);
  });
});

/** Read, change, PUT, as the engine does: a controller's write in between is a 409 to retry. */
async function replace(
  client: ApiClient,
  path: string,
  change: (obj: any) => void,
): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const obj = await client.request('GET', path);
    change(obj);
    try {
      return await client.request('PUT', path, obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.statusCode === 409) || attempt >= 5)
        throw e;
    }
  }
}

async function until<T>(
  get: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 250));
  }
}
