// Figure 7's objects: what a real cluster holds beside the portal's workloads. Pods shaped like a
// kubelet-reported pod of a real cluster (managedFields, a full spec, container statuses), in their
// own namespace, owned by nothing (kube-sim's garbage collector removes pods whose owner is
// missing), labelled like any application's pods, never like the engine's canaries; and
// Deployments at 0 replicas, which the engine does watch whole (any Deployment may be the
// workload of an entity with a custom label selector).
export const UNRELATED_NAMESPACE = 'bench-unrelated';

const stamp = '2026-12-02T00:00:00Z';

export function unrelatedPod(i) {
  const app = `batch-${i % 500}`;
  const name = `${app}-${i.toString(36).padStart(6, '0')}`;
  const containers = ['app', 'sidecar'].map(c => ({
    name: c,
    image: `registry.example/${app}/${c}:1.${i % 7}.0`,
    ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
    env: Array.from({ length: 8 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${app}` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
    readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
    terminationMessagePath: '/dev/termination-log',
    imagePullPolicy: 'IfNotPresent',
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: UNRELATED_NAMESPACE,
      labels: { app, 'app.kubernetes.io/part-of': 'batch', 'pod-template-hash': '7d9f8c6b5' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: stamp,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} } },
            'f:spec': Object.fromEntries(containers.map(c => [`k:{"name":"${c.name}"}`, { '.': {}, 'f:env': {}, 'f:image': {}, 'f:ports': {}, 'f:resources': {} }])),
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: stamp,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {} } },
        },
      ],
    },
    spec: {
      containers,
      volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } }],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: 'kube-sim-node',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
  };
}

export function unrelatedDeployment(i) {
  const name = `idle-${i}`;
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: UNRELATED_NAMESPACE, labels },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'app', image: `registry.example/${name}:1.0.0` }] },
      },
    },
  };
}
