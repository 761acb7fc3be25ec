import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@rust-delivery-portal/plugin-rollouts-common';

/** Namespace of every test workload. */
export const NS = 'shop';

export const CANARY_STEPS = [
  { setWeight: 25 },
  { pause: {} },
  { setWeight: 50 },
  { pause: { duration: '1s' } },
];

/** The cluster-side binding of a test workload to `component:default/<name>`. */
export function bindingTo(name: string) {
  return { [ROLLOUT_ANNOTATIONS.entity]: `component:default/${name}` };
}

function deployment(
  name: string,
  image: string,
  annotations: Record<string, string>,
  replicas = 4,
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: NS,
      labels: { app: name, 'backstage.io/kubernetes-id': name },
      // Bound on the cluster side to the component of the same name.
      annotations: { ...bindingTo(name), ...annotations },
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'backstage.io/kubernetes-id': name } },
        spec: {
          containers: [
            { name: 'app', image, ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

function service(name: string, app: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: NS,
      // Found by the Kubernetes plugin as the Deployment is: by the entity's kubernetes-id.
      labels: { app, 'backstage.io/kubernetes-id': app },
      annotations: bindingTo(app),
    },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

/** A canary workload: `<name>` with its Service, steps 25% -> approval -> 50% -> 1 s -> 100%. */
export function canaryWorkload(name: string, image: string) {
  return [
    deployment(name, image, {
      [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
      [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify(CANARY_STEPS),
      [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '120',
    }),
    service(name, name),
  ];
}

/**
 * A canary through the Gateway API: `<name>` with the Services `<name>-stable` (the pods labelled
 * `role: stable`) and `<name>-canary`, and the HTTPRoute `<name>` on the Gateway `gateways/public`
 * (which this returns too), bound to the same entity.
 */
export function routedCanaryWorkload(name: string, image: string) {
  const d = deployment(name, image, {
    [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
    [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify(CANARY_STEPS),
    [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '120',
    [ROLLOUT_ANNOTATIONS.httpRoute]: name,
    [ROLLOUT_ANNOTATIONS.stableService]: `${name}-stable`,
    [ROLLOUT_ANNOTATIONS.canaryService]: `${name}-canary`,
  });
  (d.spec.template.metadata.labels as Record<string, string>)[
    ROLLOUT_LABELS.role
  ] = 'stable';
  const stable = service(`${name}-stable`, name);
  stable.spec.selector = { app: name, [ROLLOUT_LABELS.role]: 'stable' } as any;
  const canary = service(`${name}-canary`, name);
  canary.spec.selector = { app: name, [ROLLOUT_LABELS.role]: 'canary' } as any;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gateways' } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'gateways' },
      spec: {
        gatewayClassName: 'simulated',
        listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
      },
    },
    d,
    stable,
    canary,
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name, namespace: NS, annotations: bindingTo(name) },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'gateways' }],
        rules: [
          { backendRefs: [{ name: `${name}-stable`, port: 80, weight: 100 }] },
        ],
      },
    },
  ];
}

/** A blue-green workload: active Service `<name>`, preview Service `<name>-preview`, 1 s scale-down delay. */
export function blueGreenWorkload(name: string, image: string) {
  return [
    deployment(name, image, {
      [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
      [ROLLOUT_ANNOTATIONS.activeService]: name,
      [ROLLOUT_ANNOTATIONS.previewService]: `${name}-preview`,
      [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '1s',
    }),
    service(name, name),
    service(`${name}-preview`, name),
  ];
}

/** A rolling-update workload (no strategy annotation). */
export function rollingWorkload(name: string, image: string) {
  return [deployment(name, image, {}, 2), service(name, name)];
}

export const namespaceObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: NS },
};
