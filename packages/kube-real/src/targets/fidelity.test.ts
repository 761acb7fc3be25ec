import { TestCluster, clusterTargets } from './targets';

/**
 * The same requests to kube-sim and to the real API server (1.20.2), and what each answered: the
 * measured rows of packages/kube-sim/README.md ("Measured against a real API server"). Where the
 * two differ on purpose (kube-sim follows current Kubernetes, the real server is 1.20), both
 * answers are written down here, so a change on either side shows up as a failing row.
 */

jest.setTimeout(180_000);

const expected = {
  'kube-sim': {
    versions: {
      autoscaling: ['v1', 'v2'],
      batch: ['v1'],
      'discovery.k8s.io': ['v1'],
      policy: ['v1'],
    },
    namespaceNameLabel: 'fidelity',
    serviceSpecKeys: [
      'clusterIP',
      'clusterIPs',
      'internalTrafficPolicy',
      'ipFamilies',
      'ipFamilyPolicy',
      'ports',
      'selector',
      'sessionAffinity',
      'type',
    ],
    managedFields: false,
    unknownFieldKept: true,
  },
  real: {
    versions: {
      autoscaling: ['v1', 'v2beta1', 'v2beta2'],
      batch: ['v1', 'v1beta1'],
      'discovery.k8s.io': ['v1beta1'],
      policy: ['v1beta1'],
    },
    namespaceNameLabel: undefined,
    serviceSpecKeys: [
      'clusterIP',
      'clusterIPs',
      'ports',
      'selector',
      'sessionAffinity',
      'type',
    ],
    managedFields: true,
    unknownFieldKept: false,
  },
};

describe.each(clusterTargets())('what $name answers', target => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await target.start({ timeScale: 0.05 });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('serves, defaults and keeps what the table says, and fails alike', async () => {
    const r = (method: string, path: string, body?: unknown) =>
      cluster.rest.request(method, path, body);
    const groups = (await r('GET', '/apis')).body.groups as any[];
    const versions = Object.fromEntries(
      Object.keys(expected.real.versions).map(name => [
        name,
        (groups.find(g => g.name === name)?.versions ?? [])
          .map((v: any) => v.version)
          .sort((a: string, b: string) =>
            a.localeCompare(b, 'en-US', { numeric: true }),
          ),
      ]),
    );
    const ns = await r('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'fidelity' },
    });
    const svc = await r('POST', '/api/v1/namespaces/fidelity/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    const cm = await r(
      'POST',
      '/api/v1/namespaces/fidelity/configmaps?fieldValidation=Strict',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings' },
        data: { a: 'b' },
        bogus: 1,
      },
    );
    expect(cm.status).toBe(201);
    expect({
      versions,
      namespaceNameLabel:
        ns.body.metadata.labels?.['kubernetes.io/metadata.name'],
      serviceSpecKeys: Object.keys(svc.body.spec).sort(),
      managedFields: Array.isArray(ns.body.metadata.managedFields),
      unknownFieldKept: 'bogus' in cm.body,
    }).toEqual(expected[target.name]);
    expect(svc.body.spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
    });

    // The same failures, with the same status, reason and message.
    const stale = await r(
      'PUT',
      '/api/v1/namespaces/fidelity/configmaps/settings',
      {
        ...cm.body,
        metadata: { ...cm.body.metadata, resourceVersion: '1' },
      },
    );
    const missing = await r('POST', '/api/v1/namespaces/nowhere/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x' },
    });
    const invalid = await r('POST', '/api/v1/namespaces/fidelity/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'Bad_Name' },
    });
    expect(
      [stale, missing, invalid].map(a => [
        a.status,
        a.body.reason,
        a.body.message,
      ]),
    ).toEqual([
      [
        409,
        'Conflict',
        'Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again',
      ],
      [404, 'NotFound', 'namespaces "nowhere" not found'],
      [
        422,
        'Invalid',
        expect.stringContaining(
          'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
        ),
      ],
    ]);
  });
});
