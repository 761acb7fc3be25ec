import { startKubeSim, KubeSim } from './index';
import { loadSeed } from './seed';

describe('demo seed', () => {
  let sim: KubeSim;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, seed: 'demo', timeScale: 0.05 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('declares the four demo services with the rollout strategy annotations', () => {
    const objects = loadSeed('demo') as any[];
    const deployments = objects.filter(o => o.kind === 'Deployment');
    const byName = Object.fromEntries(
      deployments.map(d => [d.metadata.name, d]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      'checkout-web',
      'inventory-svc',
      'payments-api',
      'search-indexer',
    ]);
    expect(byName['payments-api'].metadata).toMatchObject({
      namespace: 'payments',
      annotations: {
        'rollouts.backstage.io/strategy': 'Canary',
        'rollouts.backstage.io/canary-steps':
          '[{"setWeight":20},{"pause":{}},{"setWeight":50},{"pause":{"duration":"30s"}},{"setWeight":100}]',
        'rollouts.backstage.io/http-route': 'payments-api',
        'rollouts.backstage.io/stable-service': 'payments-api',
        'rollouts.backstage.io/canary-service': 'payments-api-canary',
      },
    });
    expect(byName['checkout-web'].metadata.annotations).toMatchObject({
      'rollouts.backstage.io/strategy': 'BlueGreen',
      'rollouts.backstage.io/active-service': 'checkout-web',
      'rollouts.backstage.io/preview-service': 'checkout-web-preview',
      'rollouts.backstage.io/auto-promotion': 'false',
      'rollouts.backstage.io/scale-down-delay': '30s',
    });
    for (const d of deployments) {
      const id = d.metadata.name;
      for (const labels of [
        d.metadata.labels,
        d.spec.template.metadata.labels,
      ]) {
        expect(labels).toMatchObject({
          'app.kubernetes.io/name': id,
          'backstage.io/kubernetes-id': id,
        });
      }
      const container = d.spec.template.spec.containers[0];
      expect(container.ports).toEqual([
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
      ]);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    }
    const services = objects
      .filter(o => o.kind === 'Service')
      .map(s => `${s.metadata.namespace}/${s.metadata.name}`);
    expect(services.sort()).toEqual([
      'checkout/checkout-web',
      'checkout/checkout-web-preview',
      'inventory/inventory-svc',
      'payments/payments-api',
      'payments/payments-api-canary',
      'search/search-indexer',
      'shipping/shipping-api',
    ]);
    const rollouts = objects.filter(o => o.kind === 'Rollout');
    expect(
      rollouts.map(r => `${r.metadata.namespace}/${r.metadata.name}`),
    ).toEqual(['shipping/shipping-api']);
    expect(
      rollouts[0].metadata.annotations['rollouts.backstage.io/entity'],
    ).toBe('component:default/shipping-api');
  });

  it('brings the Argo Rollout shipping-api up healthy, its stable ReplicaSet ready', async () => {
    await sim.control.waitFor(
      () =>
        sim.control.get(
          'argoproj.io/v1alpha1',
          'Rollout',
          'shipping',
          'shipping-api',
        )?.status?.phase === 'Healthy',
      20000,
    );
    const ro = sim.control.get(
      'argoproj.io/v1alpha1',
      'Rollout',
      'shipping',
      'shipping-api',
    );
    expect(ro.status.stableRS).toBe(ro.status.currentPodHash);
    expect(ro.status.availableReplicas).toBe(4);
  });

  it("routes payments-api through an HTTPRoute of its entity that the demo's Gateway accepts", async () => {
    const route = () =>
      sim.control.get(
        'gateway.networking.k8s.io/v1',
        'HTTPRoute',
        'payments',
        'payments-api',
      );
    expect(route().metadata.annotations['rollouts.backstage.io/entity']).toBe(
      'component:default/payments-api',
    );
    expect(
      route().spec.rules[0].backendRefs.map(
        (r: any) => `${r.name}=${r.weight}`,
      ),
    ).toEqual(['payments-api=100', 'payments-api-canary=0']);
    await sim.control.waitFor(() =>
      (route()?.status?.parents?.[0]?.conditions ?? []).some(
        (c: any) => c.type === 'Accepted' && c.status === 'True',
      ),
    );
    // Every object a team owns names its entity; the Gateway is the platform's.
    const objects = loadSeed('demo') as any[];
    const unbound = objects
      .filter(o => o.metadata.namespace && o.kind !== 'Gateway')
      .filter(o => !['ConfigMap', 'ServiceAccount'].includes(o.kind))
      .filter(
        o =>
          !o.metadata.annotations?.['rollouts.backstage.io/entity'] &&
          o.metadata.namespace !== 'search',
      )
      .map(o => `${o.kind} ${o.metadata.name}`);
    expect(unbound).toEqual([]);
  });

  it('brings healthy services up and search-indexer to ProgressDeadlineExceeded', async () => {
    const ready = (ns: string, name: string, n: number) =>
      sim.control.get('apps/v1', 'Deployment', ns, name)?.status
        ?.availableReplicas === n;
    await sim.control.waitFor(
      () =>
        ready('payments', 'payments-api', 3) &&
        ready('checkout', 'checkout-web', 2) &&
        ready('inventory', 'inventory-svc', 2),
      10000,
    );
    await sim.control.waitFor(
      () =>
        sim.control
          .get('apps/v1', 'Deployment', 'search', 'search-indexer')
          ?.status?.conditions?.some(
            (c: any) => c.reason === 'ProgressDeadlineExceeded',
          ),
      10000,
    );
    const endpoints = sim.control.get(
      'v1',
      'Endpoints',
      'checkout',
      'checkout-web-preview',
    );
    expect(endpoints.subsets[0].addresses).toHaveLength(2);
    const pods = sim.control.list(
      'v1',
      'Pod',
      undefined,
      'backstage.io/kubernetes-id=payments-api',
    );
    expect(pods).toHaveLength(3);
    // What the Backstage Kubernetes backend asks for: pods by kubernetes-id and their metrics.
    const selector = encodeURIComponent(
      'backstage.io/kubernetes-id=payments-api',
    );
    const res = await fetch(`${sim.url}/api/v1/pods?labelSelector=${selector}`);
    expect((await res.json()).items).toHaveLength(3);
    const metrics = await fetch(
      `${sim.url}/apis/metrics.k8s.io/v1beta1/namespaces/payments/pods?labelSelector=${selector}`,
    );
    const podMetrics = await metrics.json();
    expect(podMetrics.items).toHaveLength(3);
    expect(podMetrics.items[0].containers[0].usage.cpu).toMatch(/^\d+n$/);
  });

  it('answers every list the Backstage Kubernetes backend makes for an entity', async () => {
    // The default object types of @backstage/plugin-kubernetes-backend, fetched cluster-wide by label.
    const paths = [
      '/api/v1/pods',
      '/api/v1/services',
      '/api/v1/configmaps',
      '/api/v1/limitranges',
      '/api/v1/resourcequotas',
      '/apis/apps/v1/deployments',
      '/apis/apps/v1/replicasets',
      '/apis/autoscaling/v2/horizontalpodautoscalers',
      '/apis/batch/v1/jobs',
      '/apis/batch/v1/cronjobs',
      '/apis/networking.k8s.io/v1/ingresses',
      '/apis/apps/v1/statefulsets',
      '/apis/apps/v1/daemonsets',
      '/api/v1/secrets',
      '/api/v1/persistentvolumes',
      '/api/v1/persistentvolumeclaims',
      '/apis/metrics.k8s.io/v1beta1/namespaces/checkout/pods',
    ];
    const selector = `labelSelector=${encodeURIComponent(
      'backstage.io/kubernetes-id=checkout-web',
    )}`;
    const counts: Record<string, number> = {};
    for (const p of paths) {
      const res = await fetch(`${sim.url}${p}?${selector}`, {
        headers: {
          Authorization: 'Bearer any-token',
          Accept: 'application/json',
        },
      });
      expect({ path: p, status: res.status }).toEqual({ path: p, status: 200 });
      const body = await res.json();
      expect(body.kind).toMatch(/List$/);
      counts[p] = body.items.length;
    }
    expect(counts['/api/v1/pods']).toBe(2);
    expect(counts['/api/v1/services']).toBe(2);
    expect(counts['/apis/apps/v1/deployments']).toBe(1);
    expect(counts['/apis/apps/v1/replicasets']).toBe(1);
    expect(counts['/apis/batch/v1/jobs']).toBe(0);
  });
});
