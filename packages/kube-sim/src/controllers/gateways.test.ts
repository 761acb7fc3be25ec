import { KubeSim, startKubeSim } from '../index';
import { SIMULATED_GATEWAY_CONTROLLER } from './gateways';

jest.setTimeout(20000);

const GV = 'gateway.networking.k8s.io/v1';

function route(name: string, parent: string, backends: string[]) {
  return {
    apiVersion: GV,
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'shop' },
    spec: {
      parentRefs: [{ name: parent, namespace: 'gateways' }],
      rules: [
        {
          backendRefs: backends.map((b, i) => ({
            name: b,
            port: 80,
            weight: i === 0 ? 100 : 0,
          })),
        },
      ],
    },
  };
}

const conditionsOf = (obj: any) =>
  Object.fromEntries(
    (obj?.status?.parents?.[0]?.conditions ?? []).map((c: any) => [
      c.type,
      `${c.status} ${c.reason} ${c.observedGeneration}`,
    ]),
  );

describe('the simulated Gateway API', () => {
  let sim: KubeSim;

  beforeAll(async () => {
    sim = await startKubeSim({ port: 0, timeScale: 0.05 });
    await sim.control.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gateways' } },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    ]);
  });

  afterAll(async () => {
    await sim.close();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const getRoute = (name: string) =>
    sim.control.get(GV, 'HTTPRoute', 'shop', name);

  it('serves Gateways and HTTPRoutes in discovery, with their status subresource', async () => {
    const groups = await api('GET', '/apis');
    expect(
      groups.body.groups.find(
        (g: any) => g.name === 'gateway.networking.k8s.io',
      )?.preferredVersion.groupVersion,
    ).toBe(GV);
    const resources = (await api('GET', `/apis/${GV}`)).body.resources.map(
      (r: any) => r.name,
    );
    expect(resources).toEqual(
      expect.arrayContaining([
        'gateways',
        'gateways/status',
        'httproutes',
        'httproutes/status',
      ]),
    );
  });

  it('accepts a route whose parent Gateway exists, and says NoMatchingParent until it does', async () => {
    const created = await api(
      'POST',
      `/apis/${GV}/namespaces/shop/httproutes`,
      route('web', 'public', ['web']),
    );
    expect(created.status).toBe(201);
    await sim.control.waitFor(() => !!getRoute('web')?.status?.parents);
    expect(conditionsOf(getRoute('web'))).toEqual({
      Accepted: 'False NoMatchingParent 1',
      ResolvedRefs: 'True ResolvedRefs 1',
    });
    expect(getRoute('web').status.parents[0].controllerName).toBe(
      SIMULATED_GATEWAY_CONTROLLER,
    );

    await api('POST', `/apis/${GV}/namespaces/gateways/gateways`, {
      apiVersion: GV,
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'gateways' },
      spec: {
        gatewayClassName: 'simulated',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
      },
    });
    await sim.control.waitFor(
      () => conditionsOf(getRoute('web')).Accepted === 'True Accepted 1',
    );
    const gw = sim.control.get(GV, 'Gateway', 'gateways', 'public');
    await sim.control.waitFor(
      () =>
        sim.control.get(GV, 'Gateway', 'gateways', 'public')?.status?.conditions
          ?.length === 2,
    );
    expect(gw).toBeDefined();
  });

  it('reports on each generation of a route: weights written with a resourceVersion, refs resolved or not', async () => {
    const current = getRoute('web');
    const stale = structuredClone(current);
    current.spec.rules[0].backendRefs = [
      { name: 'web', port: 80, weight: 80 },
      { name: 'web-canary', port: 80, weight: 20 },
    ];
    const updated = await api(
      'PUT',
      `/apis/${GV}/namespaces/shop/httproutes/web`,
      current,
    );
    expect(updated.status).toBe(200);
    expect(updated.body.metadata.generation).toBe(2);
    // The status written by the controller survives a spec update (status subresource).
    expect(updated.body.status.parents).toHaveLength(1);
    const conflict = await api(
      'PUT',
      `/apis/${GV}/namespaces/shop/httproutes/web`,
      stale,
    );
    expect(conflict.status).toBe(409);
    await sim.control.waitFor(
      () =>
        conditionsOf(getRoute('web')).ResolvedRefs ===
        'False BackendNotFound 2',
    );
    expect(conditionsOf(getRoute('web')).Accepted).toBe('True Accepted 2');

    await sim.control.apply([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web-canary', namespace: 'shop' },
        spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      },
    ]);
    await sim.control.waitFor(
      () =>
        conditionsOf(getRoute('web')).ResolvedRefs === 'True ResolvedRefs 2',
    );
  });

  it('streams route changes to a watch', async () => {
    const list = await api('GET', `/apis/${GV}/namespaces/shop/httproutes`);
    const controller = new AbortController();
    const res = await fetch(
      `${sim.url}/apis/${GV}/httproutes?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`,
      { signal: controller.signal },
    );
    const reader = res.body!.getReader();
    const patched = await fetch(
      `${sim.url}/apis/${GV}/namespaces/shop/httproutes/web`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { watched: 'yes' } } }),
      },
    );
    expect(patched.status).toBe(200);
    let text = '';
    while (!text.includes('"watched":"yes"')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toMatch(/"type":"MODIFIED"/);
  });
});
