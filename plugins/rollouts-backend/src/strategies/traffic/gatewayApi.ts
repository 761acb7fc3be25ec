import { ConflictError } from '@backstage/errors';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_LABELS,
  TrafficRouteView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import {
  KubernetesObject,
  V1Deployment,
  V1Service,
} from '@kubernetes/client-node';
import { POD_TEMPLATE_HASH, clone, matches } from '../kube';

/** Where HTTPRoutes are served: the Gateway API's standard channel. */
export const HTTP_ROUTES = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  plural: 'httproutes',
} as const;

/** The parts of a `gateway.networking.k8s.io/v1` HTTPRoute the engine reads and writes. */
export interface HttpBackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  [field: string]: unknown;
}

export interface HttpRouteRule {
  name?: string;
  backendRefs?: HttpBackendRef[];
  [field: string]: unknown;
}

export interface HttpRouteCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface HttpRoute extends KubernetesObject {
  spec?: {
    parentRefs?: Array<{
      name: string;
      namespace?: string;
      [f: string]: unknown;
    }>;
    rules?: HttpRouteRule[];
    [field: string]: unknown;
  };
  status?: {
    parents?: Array<{
      parentRef?: { name?: string; namespace?: string };
      controllerName?: string;
      conditions?: HttpRouteCondition[];
    }>;
  };
}

/** What a canary Deployment declares about the route that carries its traffic. */
export interface GatewayRouteConfig {
  namespace: string;
  route: string;
  /** The rule, by index (`0` when not given) or by its `name`. */
  rule: number | string;
  stableService: string;
  canaryService: string;
}

/**
 * A canary's traffic routing is declared wrongly, or the cluster's objects do not fit it: the
 * rollout does not move (409 on start, Degraded with the reason while running) and nothing of
 * the route is written.
 */
export class TrafficRoutingError extends ConflictError {}

/**
 * The HTTPRoute a Deployment routes its canary through, from its annotations; `undefined` when it
 * declares none (weight is then a replica ratio). Throws TrafficRoutingError when the route is
 * named but the Services are not.
 */
export function gatewayRouteOf(
  primary: V1Deployment,
): GatewayRouteConfig | undefined {
  const a = primary.metadata?.annotations ?? {};
  return routeConfig(
    primary,
    a[ROLLOUT_ANNOTATIONS.stableService]?.trim(),
    a[ROLLOUT_ANNOTATIONS.canaryService]?.trim(),
    `${ROLLOUT_ANNOTATIONS.stableService} and ${ROLLOUT_ANNOTATIONS.canaryService}`,
  );
}

/**
 * The HTTPRoute a blue-green Deployment promotes through: the same route annotations, with the
 * active Service as the one that has the traffic and the preview Service as the one that takes it.
 */
export function blueGreenRouteOf(
  primary: V1Deployment,
): GatewayRouteConfig | undefined {
  const a = primary.metadata?.annotations ?? {};
  return routeConfig(
    primary,
    a[ROLLOUT_ANNOTATIONS.activeService]?.trim(),
    a[ROLLOUT_ANNOTATIONS.previewService]?.trim(),
    `${ROLLOUT_ANNOTATIONS.activeService} and ${ROLLOUT_ANNOTATIONS.previewService}`,
  );
}

function routeConfig(
  primary: V1Deployment,
  stableService: string | undefined,
  canaryService: string | undefined,
  annotations: string,
): GatewayRouteConfig | undefined {
  const a = primary.metadata?.annotations ?? {};
  const route = a[ROLLOUT_ANNOTATIONS.httpRoute]?.trim();
  if (!route) return undefined;
  if (!stableService || !canaryService || stableService === canaryService) {
    throw new TrafficRoutingError(
      `Traffic through HTTPRoute ${route} needs two different Services in ${annotations}`,
    );
  }
  const rawRule = a[ROLLOUT_ANNOTATIONS.httpRouteRule]?.trim() ?? '';
  let rule: number | string = rawRule;
  if (rawRule === '') rule = 0;
  else if (/^\d+$/.test(rawRule)) rule = Number(rawRule);
  return {
    namespace: primary.metadata!.namespace!,
    route,
    rule,
    stableService,
    canaryService,
  };
}

export function routeName(config: GatewayRouteConfig) {
  return `${config.namespace}/${config.route}`;
}

/**
 * Canary replicas that can carry `weight` percent of the traffic the stable's `total` replicas
 * carry: rounded up, at least one for any weight above zero. The stable keeps its full size, so
 * moving traffic back to it never waits for pods.
 */
export function routedCanaryReplicas(total: number, weight: number) {
  if (weight <= 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((total * weight) / 100)));
}

function refersTo(ref: HttpBackendRef, service: string, namespace: string) {
  return (
    (ref.group ?? '') === '' &&
    (ref.kind ?? 'Service') === 'Service' &&
    (ref.namespace ?? namespace) === namespace &&
    ref.name === service
  );
}

function ruleIndex(route: HttpRoute, config: GatewayRouteConfig) {
  const rules = route.spec?.rules ?? [];
  const index =
    typeof config.rule === 'number'
      ? config.rule
      : rules.findIndex(r => r.name === config.rule);
  if (index < 0 || index >= rules.length) {
    throw new TrafficRoutingError(
      `HTTPRoute ${routeName(config)} has no rule ${
        typeof config.rule === 'number'
          ? `at index ${config.rule}`
          : `named ${config.rule}`
      } (${ROLLOUT_ANNOTATIONS.httpRouteRule})`,
    );
  }
  return index;
}

/**
 * The weights the route's rule gives the stable and canary Services. Throws TrafficRoutingError
 * when the rule is missing, does not send to the stable Service, or also sends to other backends
 * (the weights would then not be the canary's share).
 */
export function routeWeights(
  route: HttpRoute,
  config: GatewayRouteConfig,
): { stable: number; canary: number } {
  const rule = route.spec!.rules![ruleIndex(route, config)];
  const refs = rule.backendRefs ?? [];
  const stable = refs.filter(r =>
    refersTo(r, config.stableService, config.namespace),
  );
  const canary = refs.filter(r =>
    refersTo(r, config.canaryService, config.namespace),
  );
  if (stable.length !== 1) {
    throw new TrafficRoutingError(
      `Rule ${config.rule} of HTTPRoute ${routeName(
        config,
      )} must have exactly one backendRef to the stable Service ${
        config.stableService
      }`,
    );
  }
  if (canary.length > 1 || refs.length !== stable.length + canary.length) {
    throw new TrafficRoutingError(
      `Rule ${config.rule} of HTTPRoute ${routeName(config)} may send only to ${
        config.stableService
      } and ${
        config.canaryService
      }, so that their weights are the canary's share`,
    );
  }
  // The Gateway API's default weight is 1.
  return { stable: stable[0].weight ?? 1, canary: canary[0]?.weight ?? 0 };
}

/** The canary's share of the rule's traffic in percent, from the route's weights. */
export function canaryPercent(weights: { stable: number; canary: number }) {
  const sum = weights.stable + weights.canary;
  return sum > 0 ? Math.round((weights.canary / sum) * 100) : 0;
}

/**
 * The route with its rule sending `canaryWeight` percent to the canary Service and the rest to the
 * stable one (a canary backendRef is added beside the stable one when missing, with its port).
 * Everything else of the route, including its resourceVersion, is kept.
 */
export function withCanaryWeight(
  route: HttpRoute,
  config: GatewayRouteConfig,
  canaryWeight: number,
): HttpRoute {
  routeWeights(route, config);
  const next = clone(route);
  const rule = next.spec!.rules![ruleIndex(next, config)];
  const refs = rule.backendRefs!;
  const stable = refs.find(r =>
    refersTo(r, config.stableService, config.namespace),
  )!;
  let canary = refs.find(r =>
    refersTo(r, config.canaryService, config.namespace),
  );
  if (!canary) {
    canary = { ...clone(stable), name: config.canaryService };
    refs.push(canary);
  }
  stable.weight = 100 - canaryWeight;
  canary.weight = canaryWeight;
  return next;
}

/**
 * Whether the Gateways the route is attached to accept it, as their implementation reports it in
 * `status.parents[].conditions` for the route's current generation: `false` with the reason when
 * any parent says Accepted or ResolvedRefs is False, `undefined` while none has reported.
 */
export function routeAcceptance(route: HttpRoute): {
  accepted?: boolean;
  message?: string;
} {
  const generation = route.metadata?.generation;
  const parents = route.status?.parents ?? [];
  const current = (c: HttpRouteCondition) =>
    generation === undefined ||
    c.observedGeneration === undefined ||
    c.observedGeneration >= generation;
  let reported = false;
  for (const parent of parents) {
    for (const c of parent.conditions ?? []) {
      if (!current(c) || (c.type !== 'Accepted' && c.type !== 'ResolvedRefs'))
        continue;
      if (c.type === 'Accepted') reported = true;
      if (c.status === 'False') {
        return {
          accepted: false,
          message: `Gateway ${
            parent.parentRef?.namespace ?? route.metadata?.namespace
          }/${parent.parentRef?.name} does not accept HTTPRoute ${
            route.metadata?.namespace
          }/${route.metadata?.name}: ${c.type}=False (${
            c.reason ?? 'no reason'
          })${c.message ? `: ${c.message}` : ''}`,
        };
      }
    }
  }
  if (!reported) {
    return {
      message: `No Gateway has accepted HTTPRoute ${route.metadata?.namespace}/${route.metadata?.name} yet (is a Gateway API controller running?)`,
    };
  }
  return { accepted: true };
}

/** The labels of the canary Deployment's pods (its pod template's, with the engine's role labels). */
export function canaryPodLabels(primary: V1Deployment): Record<string, string> {
  const labels: Record<string, string> = {
    ...primary.spec?.template?.metadata?.labels,
    [ROLLOUT_LABELS.role]: 'canary',
    [ROLLOUT_LABELS.owner]: primary.metadata!.name!,
  };
  delete labels[POD_TEMPLATE_HASH];
  return labels;
}

/** The canary Service's selector: exactly the canary Deployment's pods. */
export function canarySelector(primary: V1Deployment): Record<string, string> {
  return {
    ...primary.spec?.selector?.matchLabels,
    [ROLLOUT_LABELS.role]: 'canary',
    [ROLLOUT_LABELS.owner]: primary.metadata!.name!,
  };
}

/**
 * Throws TrafficRoutingError when the stable Service would also send to the canary's pods (its
 * weight would then not be the stable's), or selects nothing.
 */
export function checkStableService(
  svc: V1Service | undefined,
  primary: V1Deployment,
  config: GatewayRouteConfig,
) {
  if (!svc) {
    throw new TrafficRoutingError(
      `Service ${config.namespace}/${config.stableService} (${ROLLOUT_ANNOTATIONS.stableService}) not found`,
    );
  }
  if (matches(canaryPodLabels(primary), svc.spec?.selector)) {
    throw new TrafficRoutingError(
      `Service ${config.namespace}/${config.stableService} selects the canary's pods too: add ${ROLLOUT_LABELS.role}: stable to its selector and to the pod template of ${primary.metadata?.name}`,
    );
  }
}

/** The route as the view shows it; never throws (a misdeclared route is a message). */
export function trafficRouteView(
  primary: V1Deployment,
  lookup: (namespace: string, name: string) => HttpRoute | undefined,
  configOf: (
    d: V1Deployment,
  ) => GatewayRouteConfig | undefined = gatewayRouteOf,
): TrafficRouteView | undefined {
  let config: GatewayRouteConfig | undefined;
  try {
    config = configOf(primary);
  } catch (e) {
    return {
      router: 'gateway-api',
      route: `${primary.metadata?.namespace}/${
        primary.metadata?.annotations?.[ROLLOUT_ANNOTATIONS.httpRoute]
      }`,
      rule: '0',
      message: (e as Error).message,
    };
  }
  if (!config) return undefined;
  const base: TrafficRouteView = {
    router: 'gateway-api',
    route: routeName(config),
    rule: String(config.rule),
  };
  const route = lookup(config.namespace, config.route);
  if (!route)
    return { ...base, message: `HTTPRoute ${routeName(config)} not found` };
  const acceptance = routeAcceptance(route);
  try {
    return { ...base, weights: routeWeights(route, config), ...acceptance };
  } catch (e) {
    return {
      ...base,
      accepted: acceptance.accepted,
      message: (e as Error).message,
    };
  }
}
