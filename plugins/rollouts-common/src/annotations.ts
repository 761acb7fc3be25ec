/**
 * Annotation and label names shared by the template's manifests, the rollouts backend and kube-sim's
 * demo workloads. The strategy lives on the workload itself (GitOps-friendly): no CRD is needed.
 */

export {
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
} from './kubernetesAnnotations';
/**
 * The label the Kubernetes plugin matches `backstage.io/kubernetes-id` against.
 * @public
 */
export const KUBERNETES_ID_LABEL = 'backstage.io/kubernetes-id';

const PREFIX = 'rollouts.backstage.io';

/**
 * Workload (Deployment) annotations that declare how the workload is delivered.
 * @public
 */
export const ROLLOUT_ANNOTATIONS = {
  /** `RollingUpdate` (default), `Canary` or `BlueGreen`. */
  strategy: `${PREFIX}/strategy`,
  /** Canary: JSON or YAML list of steps in Argo Rollouts' vocabulary, e.g. `[{"setWeight":20},{"pause":{}}]`. */
  canarySteps: `${PREFIX}/canary-steps`,
  /** Canary: seconds a canary pod may stay unready (or crash-loop) before the health gate aborts. Default 60. */
  canaryUnreadyThreshold: `${PREFIX}/canary-unready-threshold`,
  /**
   * Canary through the Gateway API: the name of the HTTPRoute (in the workload's namespace) that
   * carries the workload's traffic. With it, each `setWeight` sets the weights of the route rule's
   * backendRefs to the stable and canary Services exactly; without it, weight is a replica ratio.
   * The route must be bound to the same entity (`entity` on it or its namespace).
   */
  httpRoute: `${PREFIX}/http-route`,
  /**
   * Canary through the Gateway API: which rule of the HTTPRoute carries the traffic, by index
   * (`0`, the default) or by the rule's `name`.
   */
  httpRouteRule: `${PREFIX}/http-route-rule`,
  /**
   * Canary through the Gateway API: the Service of the stable pods (a backendRef of the rule). It
   * must not select the canary's pods: select `rollouts.backstage.io/role: stable`, which the
   * Deployment's pod template carries and the canary's pods carry as `canary`.
   */
  stableService: `${PREFIX}/stable-service`,
  /**
   * Canary through the Gateway API: the Service of the canary pods; the engine points its selector
   * at them (the canary Deployment's selector). It must be bound to the same entity.
   */
  canaryService: `${PREFIX}/canary-service`,
  /** BlueGreen: name of the Service that takes production traffic. */
  activeService: `${PREFIX}/active-service`,
  /** BlueGreen: name of the Service that points at the new version before promotion. */
  previewService: `${PREFIX}/preview-service`,
  /** BlueGreen: `true` to promote as soon as the preview is ready. Default `false`. */
  autoPromotion: `${PREFIX}/auto-promotion`,
  /** BlueGreen: how long the old version stays up after promotion (e.g. `30s`, `5m`). Default `30s`. */
  scaleDownDelay: `${PREFIX}/scale-down-delay`,
  /**
   * Canary and blue-green: the name of a ConfigMap in the workload's namespace, bound to the same
   * entity, whose `analysis.yaml` holds an Argo Rollouts AnalysisTemplate `spec` (metrics with a
   * Prometheus query, interval, count, conditions and limits). The engine measures it at each
   * canary step, every interval while the canary runs, and before a blue-green promotion.
   */
  analysis: `${PREFIX}/analysis`,
  /** Written by the engine: the rollout's own state (JSON), guarded by the object's resourceVersion. */
  state: `${PREFIX}/state`,
  /**
   * The cluster side of the link from an entity to its workloads: on a Deployment (or a Service),
   * the entity ref it belongs to (`component:default/payments-api`); on a Namespace, a
   * comma-separated list of the entity refs whose workloads it holds (for teams that own whole
   * namespaces). Written by whoever may write to the cluster or its GitOps repository (the
   * template's manifests carry it), never by a catalog author: the engine acts on a workload only
   * when this names the entity asking.
   */
  entity: `${PREFIX}/entity`,
} as const;

/**
 * Catalog entity annotations the rollouts backend reads besides the Kubernetes plugin's.
 * @public
 */
export const ROLLOUT_ENTITY_ANNOTATIONS = {
  /**
   * The image repository the entity's CI builds (`ghcr.io/acme/orders-api`): a CI identity may
   * start rollouts only of images from it. Recorded by the Rust service template.
   */
  imageRepository: `${PREFIX}/image-repository`,
  /** The GitHub repository (`owner/repo`) whose Actions OIDC identity may start the entity's rollouts. */
  githubProjectSlug: 'github.com/project-slug',
  /**
   * The entity's release pipeline: its stages in order, as a YAML or JSON list, each with a
   * `cluster`, an optional `namespace` and `name`, a `soak` time (`10m`) and `promotion`
   * (`auto` or `manual`, the default), e.g. `[{cluster: staging, soak: 10m}, {cluster: production}]`.
   */
  pipeline: `${PREFIX}/pipeline`,
} as const;

/**
 * Labels the engine puts on the objects it manages.
 * @public
 */
export const ROLLOUT_LABELS = {
  /** `stable`, `canary`, `active` or `preview` on engine-managed workloads and their pods. */
  role: `${PREFIX}/role`,
  /** On a canary or preview Deployment: the name of the Deployment it belongs to. */
  owner: `${PREFIX}/owner`,
} as const;
