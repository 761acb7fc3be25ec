import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import {
  KUBERNETES_ID_LABEL,
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { ServiceParams } from '../params/serviceParams';
import { ANALYSIS_DATA_KEY, analysisYaml } from './analysis';
import { HttpRoute } from './httpRoute';

/**
 * One manifest of the generated service, with the file it is written to.
 * @public
 */
export interface Manifest {
  file: string;
  object: { apiVersion: string; kind: string; metadata?: { name?: string } } & {
    validate(): void;
    toJSON(): unknown;
  };
}

/** The user of the distroless `nonroot` image the Dockerfile runs as. */
const NON_ROOT_UID = 65532;

/**
 * Names of the objects generated for a service.
 * @public
 */
export function objectNames(name: string) {
  return {
    deployment: name,
    service: name,
    previewService: `${name}-preview`,
    canaryService: `${name}-canary`,
    httpRoute: name,
    configMap: `${name}-config`,
    analysisConfigMap: `${name}-analysis`,
    secret: `${name}-secrets`,
    serviceAccount: name,
  };
}

/**
 * The entity the template registers for a service: its catalog-info.yaml has no
 * metadata.namespace, so the entity is in `default`.
 * @public
 */
export function serviceEntityRef(name: string): string {
  return `component:default/${name}`;
}

/**
 * The Kubernetes objects of a service for its delivery strategy, as typed `kubernetes-models`
 * objects (validated against the Kubernetes OpenAPI schemas before they are written).
 *
 * The strategy is declared on the Deployment with the annotations the rollouts backend reads; the
 * backend creates the canary or preview Deployments itself during a rollout. Every object names
 * the entity it belongs to (`rollouts.backstage.io/entity`): the cluster side of the binding the
 * rollouts engine and the apply step trust.
 * @public
 */
export function buildManifests(
  params: ServiceParams,
  options: { image?: string; entityRef?: string } = {},
): Manifest[] {
  const { name, namespace, port, strategy } = params;
  const names = objectNames(name);
  const routed =
    strategy === 'Canary' && params.trafficRouting === 'gateway-api';
  const image = options.image ?? `${params.imageRepository}:main`;
  const selector = { 'app.kubernetes.io/name': name };
  const labels = {
    ...selector,
    [KUBERNETES_ID_LABEL]: name,
    'app.kubernetes.io/component': 'service',
    'app.kubernetes.io/managed-by': 'backstage',
  };
  const binding = {
    [ROLLOUT_ANNOTATIONS.entity]: options.entityRef ?? serviceEntityRef(name),
  };
  const metadata = (
    objectName: string,
    annotations?: Record<string, string>,
  ) => ({
    name: objectName,
    namespace,
    labels,
    annotations: { ...binding, ...annotations },
  });

  const strategyAnnotations: Record<string, string> = {
    [ROLLOUT_ANNOTATIONS.strategy]: strategy,
  };
  if (strategy === 'Canary') {
    strategyAnnotations[ROLLOUT_ANNOTATIONS.canarySteps] = JSON.stringify(
      params.canarySteps,
    );
  }
  if (routed) {
    // Exact weights through the route's rule 0: the Service `<name>` is the stable one.
    strategyAnnotations[ROLLOUT_ANNOTATIONS.httpRoute] = names.httpRoute;
    strategyAnnotations[ROLLOUT_ANNOTATIONS.httpRouteRule] = '0';
    strategyAnnotations[ROLLOUT_ANNOTATIONS.stableService] = names.service;
    strategyAnnotations[ROLLOUT_ANNOTATIONS.canaryService] =
      names.canaryService;
  }
  if (params.analysis) {
    strategyAnnotations[ROLLOUT_ANNOTATIONS.analysis] = names.analysisConfigMap;
  }
  // Through a route the stable Service must not select the canary's pods: the stable pods say
  // `role: stable`, the engine's canary pods `role: canary`. The analysis' queries tell the two
  // apart by the same label, so the stable pods need it there too.
  const stableRole: Record<string, string> =
    routed || params.analysis ? { [ROLLOUT_LABELS.role]: 'stable' } : {};
  // Where the pod label selects Services (routed), it must also be on their selector; with a
  // replica ratio the Service keeps selecting every pod of the service.
  const stableServiceRole = routed ? stableRole : {};
  // What Prometheus' usual `kubernetes-pods` job discovers pods by.
  const scrapeAnnotations = {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': '/metrics',
  };
  if (strategy === 'BlueGreen') {
    strategyAnnotations[ROLLOUT_ANNOTATIONS.activeService] = names.service;
    strategyAnnotations[ROLLOUT_ANNOTATIONS.previewService] =
      names.previewService;
    strategyAnnotations[ROLLOUT_ANNOTATIONS.autoPromotion] = String(
      params.autoPromotion,
    );
    strategyAnnotations[ROLLOUT_ANNOTATIONS.scaleDownDelay] =
      params.scaleDownDelay;
  }

  const httpProbe = (path: string) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: 10,
    timeoutSeconds: 2,
  });

  const deployment = new Deployment({
    metadata: metadata(names.deployment, strategyAnnotations),
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: 300,
      selector: { matchLabels: selector },
      // Plain rolling updates for RollingUpdate; for Canary and BlueGreen the rollouts backend
      // drives new versions through separate Deployments and this one moves as a whole.
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 },
      },
      template: {
        metadata: {
          labels: { ...labels, ...stableRole },
          annotations: scrapeAnnotations,
        },
        spec: {
          serviceAccountName: names.serviceAccount,
          automountServiceAccountToken: false,
          // Longer than SHUTDOWN_TIMEOUT_SECS so in-flight requests finish after SIGTERM.
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NON_ROOT_UID,
            runAsGroup: NON_ROOT_UID,
            fsGroup: NON_ROOT_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [
            {
              name,
              image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              envFrom: [
                { configMapRef: { name: names.configMap } },
                // Created out of band (README: kubectl create secret); optional so the service
                // starts before anyone needs a secret.
                { secretRef: { name: names.secret, optional: true } },
              ],
              startupProbe: {
                ...httpProbe('/healthz'),
                periodSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: { ...httpProbe('/healthz'), failureThreshold: 3 },
              readinessProbe: { ...httpProbe('/readyz'), failureThreshold: 2 },
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { memory: '128Mi' },
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: NON_ROOT_UID,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
        },
      },
    },
  });

  const service = (
    objectName: string,
    podSelector: Record<string, string> = selector,
  ) =>
    new Service({
      metadata: metadata(objectName),
      spec: {
        type: 'ClusterIP',
        selector: podSelector,
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        ],
      },
    });

  const manifests: Manifest[] = [
    {
      file: 'serviceaccount.yaml',
      object: new ServiceAccount({
        metadata: metadata(names.serviceAccount),
        automountServiceAccountToken: false,
      }),
    },
    {
      file: 'configmap.yaml',
      object: new ConfigMap({
        metadata: metadata(names.configMap),
        data: {
          PORT: String(port),
          RUST_LOG: 'info',
          REQUEST_TIMEOUT_SECS: '10',
          SHUTDOWN_TIMEOUT_SECS: '20',
        },
      }),
    },
    { file: 'deployment.yaml', object: deployment },
    {
      file: 'service.yaml',
      object: service(names.service, { ...selector, ...stableServiceRole }),
    },
  ];
  if (params.analysis) {
    manifests.push({
      file: 'analysis.yaml',
      // Bound to the entity like every object: the engine reads an analysis only when it is.
      object: new ConfigMap({
        metadata: metadata(names.analysisConfigMap),
        data: { [ANALYSIS_DATA_KEY]: analysisYaml(params.analysis) },
      }),
    });
  }
  if (routed) {
    manifests.push(
      {
        file: 'service-canary.yaml',
        // The engine's canary Deployment's pods (it keeps this selector so).
        object: service(names.canaryService, {
          ...selector,
          [ROLLOUT_LABELS.role]: 'canary',
          [ROLLOUT_LABELS.owner]: names.deployment,
        }),
      },
      {
        file: 'httproute.yaml',
        object: new HttpRoute({
          metadata: metadata(names.httpRoute),
          spec: {
            parentRefs: [
              {
                name: params.gateway!.name,
                namespace: params.gateway!.namespace,
              },
            ],
            rules: [
              {
                backendRefs: [
                  { name: names.service, port: 80, weight: 100 },
                  { name: names.canaryService, port: 80, weight: 0 },
                ],
              },
            ],
          },
        }),
      },
    );
  }
  if (strategy === 'BlueGreen') {
    manifests.push({
      file: 'service-preview.yaml',
      object: service(names.previewService),
    });
  }
  manifests.push(
    {
      file: 'poddisruptionbudget.yaml',
      object: new PodDisruptionBudget({
        metadata: metadata(name),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      }),
    },
    {
      file: 'horizontalpodautoscaler.yaml',
      object: new HorizontalPodAutoscaler({
        metadata: metadata(name),
        spec: {
          scaleTargetRef: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: names.deployment,
          },
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: { type: 'Utilization', averageUtilization: 70 },
              },
            },
          ],
        },
      }),
    },
  );
  for (const manifest of manifests) {
    manifest.object.validate();
  }
  return manifests;
}
