// What the benchmark puts in its clusters and its catalog: N services spread over the clusters
// (Deployment + Service, pods made by kube-sim's controllers), a mix of delivery strategies declared
// with the annotations of plugins/rollouts-common/src/annotations.ts, and, for the scale figures,
// extra entities deployed in every cluster. Entities map to workloads the Kubernetes plugin's way:
// the `backstage.io/kubernetes-id` annotation on the entity, the same label on the objects.

const PREFIX = 'rollouts.backstage.io';
export const ANNOTATIONS = {
  strategy: `${PREFIX}/strategy`,
  canarySteps: `${PREFIX}/canary-steps`,
  canaryUnreadyThreshold: `${PREFIX}/canary-unready-threshold`,
  activeService: `${PREFIX}/active-service`,
  previewService: `${PREFIX}/preview-service`,
  autoPromotion: `${PREFIX}/auto-promotion`,
  // The cluster's word that a workload (or Service) belongs to the entity: actions need it.
  entity: `${PREFIX}/entity`,
};
const KUBERNETES_NAMESPACE = 'backstage.io/kubernetes-namespace';
const KUBERNETES_ID = 'backstage.io/kubernetes-id';
const STRATEGIES = ['RollingUpdate', 'Canary', 'BlueGreen'];
export const NAMESPACE = 'bench';
export const SCALE_NAMESPACE = 'bench-scale';
const REPLICAS = 2;

/** Canary steps that stop at an indefinite pause: the rollout stays in flight until someone acts. */
const CANARY_STEPS = [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }];

export const imageOf = (name, tag) => `ghcr.io/acme/${name}:${tag}`;

export function workload({ name, namespace, strategy, unreadyThreshold, replicas = REPLICAS }) {
  const labels = { app: name, [KUBERNETES_ID]: name };
  const bound = { [ANNOTATIONS.entity]: `component:default/${name}` };
  const annotations = { [ANNOTATIONS.strategy]: strategy, ...bound };
  if (strategy === 'Canary') {
    annotations[ANNOTATIONS.canarySteps] = JSON.stringify(CANARY_STEPS);
    if (unreadyThreshold !== undefined) {
      annotations[ANNOTATIONS.canaryUnreadyThreshold] = unreadyThreshold;
    }
  }
  if (strategy === 'BlueGreen') {
    annotations[ANNOTATIONS.activeService] = name;
    annotations[ANNOTATIONS.previewService] = `${name}-preview`;
    annotations[ANNOTATIONS.autoPromotion] = 'false';
  }
  const service = svcName => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: svcName, namespace, labels: { ...labels }, annotations: { ...bound } },
    spec: {
      selector: { app: name },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  });
  const objects = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: { ...labels }, annotations },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            containers: [
              {
                name: 'app',
                image: imageOf(name, '1.0.0'),
                ports: [{ containerPort: 8080 }],
                readinessProbe: {
                  httpGet: { path: '/health/ready', port: 8080 },
                  initialDelaySeconds: 1,
                  periodSeconds: 2,
                },
              },
            ],
          },
        },
      },
    },
    service(name),
  ];
  if (strategy === 'BlueGreen') objects.push(service(`${name}-preview`));
  return objects;
}

export function entity(name, description, namespace) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      description,
      // Actions are taken in one namespace: the entity names it.
      annotations: { [KUBERNETES_ID]: name, [KUBERNETES_NAMESPACE]: namespace },
      tags: ['bench'],
    },
    spec: { type: 'service', lifecycle: 'production', owner: 'group:default/team-rust' },
  };
}

/**
 * services: the N services of figures 1-3, service i in cluster i mod clusters, strategies mixed so
 * that every cluster holds every strategy. Canary services have an unready threshold of 0 s so the
 * reaction figure measures the engine, not a grace period a team chose.
 * scale: ceil(maxScale / clusters) entities deployed in every cluster (Canary and BlueGreen), so
 * that maxScale rollouts can be in flight at once.
 */
export function planSeed({ services, clusters, maxScale }) {
  const perCluster = Array.from({ length: clusters }, () => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  ]);
  // Applied only before figure 4, so figures 1-3 see the N services alone.
  const scalePerCluster = Array.from({ length: clusters }, () => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SCALE_NAMESPACE } },
  ]);
  const entities = [];
  const main = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${String(i + 1).padStart(4, '0')}`;
    const cluster = i % clusters;
    const strategy = STRATEGIES[Math.floor(i / clusters) % STRATEGIES.length];
    perCluster[cluster].push(
      ...workload({ name, namespace: NAMESPACE, strategy, unreadyThreshold: '0s' }),
    );
    entities.push(entity(name, `Benchmark service (${strategy})`, NAMESPACE));
    main.push({ name, cluster, strategy });
  }
  const scale = [];
  const scaleEntities = Math.ceil(maxScale / clusters);
  for (let i = 0; i < scaleEntities; i++) {
    const name = `scale-${String(i + 1).padStart(4, '0')}`;
    // Two thirds canary, one third blue-green: both stay in flight at their first pause.
    const strategy = i % 3 === 2 ? 'BlueGreen' : 'Canary';
    for (let c = 0; c < clusters; c++) {
      // One replica each: kube-sim's controllers slow down with every pod they walk (see BENCHMARKS.md).
      scalePerCluster[c].push(...workload({ name, namespace: SCALE_NAMESPACE, strategy, replicas: 1 }));
      scale.push({ name, cluster: c, strategy });
    }
    entities.push(entity(name, `Benchmark scale workload (${strategy})`, SCALE_NAMESPACE));
  }
  return { perCluster, scalePerCluster, entities, main, scale };
}
