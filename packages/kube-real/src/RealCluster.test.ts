import { stringify } from 'yaml';
import { kubectl } from './kubectl';
import { RealCluster, startRealCluster } from './RealCluster';
import { ApiClient } from './agent/ApiClient';

const NS = 'workloads';

function deployment(name: string, image: string, replicas = 3) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image,
              ports: [{ containerPort: 8080 }],
              readinessProbe: {
                httpGet: { path: '/ready', port: 8080 },
                initialDelaySeconds: 2,
              },
            },
          ],
        },
      },
    },
  };
}

function manifests(...objects: object[]): string {
  return objects.map(o => stringify(o)).join('---\n');
}

async function until<T>(
  what: string,
  get: () => Promise<T | undefined>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('startRealCluster', () => {
  let cluster: RealCluster;
  let api: ApiClient;
  let admin: string;
  const pods = async (app: string) =>
    (
      await api.request(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${app}`,
      )
    ).items as any[];

  beforeAll(async () => {
    const begun = Date.now();
    cluster = await startRealCluster({ timeScale: 0.1 });
    // eslint-disable-next-line no-console
    console.log(`kube-real test cluster up in ${Date.now() - begun} ms`);
    admin = cluster.kubeconfig();
    api = ApiClient.fromKubeconfig(admin);
    await kubectl(admin, ['create', 'namespace', NS]);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('is a real API server on loopback with TLS from its own CA, and its nodes are Ready', async () => {
    expect(cluster.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.caData).toContain('BEGIN CERTIFICATE');
    const version = JSON.parse(await kubectl(admin, ['version', '-o', 'json']));
    expect(version.serverVersion.gitVersion).toBe('v1.20.2');
    const nodes = JSON.parse(
      await kubectl(admin, ['get', 'nodes', '-o', 'json']),
    ).items;
    expect(nodes.map((n: any) => n.metadata.name)).toEqual([
      'kube-real-node-1',
    ]);
    const ready = nodes[0].status.conditions.find(
      (c: any) => c.type === 'Ready',
    );
    expect(ready.status).toBe('True');
    expect(nodes[0].status.addresses[0].address).toMatch(/^127\./);
    const lease = await api.request(
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/kube-real-node-1',
    );
    expect(lease.spec.holderIdentity).toBe('kube-real-node-1');
  });

  it('runs a Deployment applied with kubectl: its pods become Ready with loopback IPs and rollout status completes', async () => {
    await kubectl(admin, ['apply', '-f', '-'], {
      input: manifests(deployment('web', 'ghcr.io/acme/web:1.0.0'), {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: NS },
        spec: {
          selector: { app: 'web' },
          ports: [{ port: 80, targetPort: 8080 }],
        },
      }),
    });
    const out = await kubectl(admin, [
      '-n',
      NS,
      'rollout',
      'status',
      'deployment/web',
      '--timeout=120s',
    ]);
    expect(out).toContain('successfully rolled out');
    const running = await pods('web');
    expect(running).toHaveLength(3);
    for (const p of running) {
      expect(p.spec.nodeName).toBe('kube-real-node-1');
      expect(p.status.phase).toBe('Running');
      expect(
        p.status.conditions.find((c: any) => c.type === 'Ready').status,
      ).toBe('True');
      expect(p.status.podIP).toMatch(/^127\.(?!0\.)\d+\.\d+\.\d+$/);
    }
    // The real scheduler bound them, and the agent recorded the kubelet's events.
    const events = (await api.request('GET', `/api/v1/namespaces/${NS}/events`))
      .items as any[];
    const reasons = new Set(events.map(e => e.reason));
    expect([...reasons]).toEqual(
      expect.arrayContaining(['Scheduled', 'Started']),
    );
    // The real endpoint slice controller lists the ready pods for the Service.
    const slices = await until('the Service endpoint slice', async () => {
      const items = (
        await api.request(
          'GET',
          `/apis/discovery.k8s.io/v1beta1/namespaces/${NS}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb`,
        )
      ).items as any[];
      const ready = items
        .flatMap(s => s.endpoints ?? [])
        .filter(e => e.conditions?.ready);
      return ready.length === 3 ? items : undefined;
    });
    expect(
      slices.flatMap(s => s.endpoints.flatMap((e: any) => e.addresses)).sort(),
    ).toEqual(running.map(p => p.status.podIP).sort());
  }, 180_000);

  it('rolls out a new image: old pods are terminated gracefully and removed', async () => {
    await kubectl(admin, [
      '-n',
      NS,
      'set',
      'image',
      'deployment/web',
      'app=ghcr.io/acme/web:1.1.0',
    ]);
    const out = await kubectl(admin, [
      '-n',
      NS,
      'rollout',
      'status',
      'deployment/web',
      '--timeout=120s',
    ]);
    expect(out).toContain('successfully rolled out');
    // Deleted pods stay (Terminating) until the agent finishes them with grace period 0.
    const remaining = await until('the old pods to be gone', async () => {
      const all = await pods('web');
      return all.length === 3 ? all : undefined;
    });
    expect(remaining.map(p => p.spec.containers[0].image)).toEqual(
      Array(3).fill('ghcr.io/acme/web:1.1.0'),
    );
  }, 180_000);

  it('finishes a graceful pod deletion and the ReplicaSet replaces the pod', async () => {
    const [victim] = await pods('web');
    const begun = Date.now();
    await kubectl(admin, [
      '-n',
      NS,
      'delete',
      'pod',
      victim.metadata.name,
      '--wait=true',
      '--timeout=60s',
    ]);
    // The default grace period is 30 s; the agent's simulated kubelet stops it in 0.1 s.
    expect(Date.now() - begun).toBeLessThan(20_000);
    await kubectl(admin, [
      '-n',
      NS,
      'rollout',
      'status',
      'deployment/web',
      '--timeout=120s',
    ]);
    const now = await pods('web');
    expect(now.map(p => p.metadata.name)).not.toContain(victim.metadata.name);
    expect(now).toHaveLength(3);
  }, 120_000);

  it('restarts a crash-looping image with back-off, and its Deployment never becomes available', async () => {
    await kubectl(admin, ['apply', '-f', '-'], {
      input: manifests(
        deployment('worker', 'ghcr.io/acme/worker:0.9.0-crashloop', 1),
      ),
    });
    const pod = await until('a restarted container', async () => {
      const [p] = await pods('worker');
      const status = p?.status?.containerStatuses?.[0];
      return status?.restartCount >= 1 &&
        status.state.waiting?.reason === 'CrashLoopBackOff'
        ? p
        : undefined;
    });
    const status = pod.status.containerStatuses[0];
    expect(status.ready).toBe(false);
    expect(status.lastState.terminated).toEqual(
      expect.objectContaining({ exitCode: 1, reason: 'Error' }),
    );
    await expect(
      kubectl(admin, [
        '-n',
        NS,
        'rollout',
        'status',
        'deployment/worker',
        '--timeout=3s',
      ]),
    ).rejects.toThrow(/exceeded|timed out/);
  }, 120_000);
});
