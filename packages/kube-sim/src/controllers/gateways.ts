import { ControllerContext, TYPES, canonical, nowIso } from './types';

/**
 * A simulated Gateway API implementation: it reports on Gateways and HTTPRoutes the way a real
 * gateway controller does in their `status` (Accepted, ResolvedRefs, Programmed), and carries no
 * traffic. A route is Accepted by each parent Gateway that exists (`NoMatchingParent` otherwise),
 * and its refs are resolved when every backendRef names an existing Service of its namespace
 * (`BackendNotFound` otherwise).
 * @public
 */
export const SIMULATED_GATEWAY_CONTROLLER = 'kube-sim.local/simulated-gateway';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

function condition(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  previous: any[] | undefined,
) {
  const status = ok ? 'True' : 'False';
  const before = (previous ?? []).find((c: any) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: generation,
    lastTransitionTime:
      before?.status === status ? before.lastTransitionTime : nowIso(),
  };
}

/** Status as compared for a change: without the transition times. */
function comparable(status: any) {
  return canonical(status).replace(/"lastTransitionTime":"[^"]*",?/g, '');
}

/** @public */
export function reconcileGateway(
  ctx: ControllerContext,
  namespace: string,
  name: string,
) {
  const gw = ctx.store.get(TYPES.gateways, namespace, name)?.obj;
  if (!gw) return;
  const generation = gw.metadata.generation;
  const previous = gw.status?.conditions;
  const status = {
    ...gw.status,
    conditions: [
      condition(
        'Accepted',
        true,
        'Accepted',
        'Accepted by the simulated gateway of kube-sim',
        generation,
        previous,
      ),
      condition(
        'Programmed',
        true,
        'Programmed',
        'Simulated: kube-sim carries no traffic',
        generation,
        previous,
      ),
    ],
  };
  if (comparable(status) === comparable(gw.status ?? {})) return;
  const next = structuredClone(gw);
  next.status = status;
  ctx.store.update(TYPES.gateways, next, { subresource: 'status' });
}

/** @public */
export function reconcileHttpRoute(
  ctx: ControllerContext,
  namespace: string,
  name: string,
) {
  const route = ctx.store.get(TYPES.httproutes, namespace, name)?.obj;
  if (!route) return;
  const generation = route.metadata.generation;
  const missing = (route.spec?.rules ?? [])
    .flatMap((r: any) => r.backendRefs ?? [])
    .filter(
      (ref: any) =>
        (ref.group ?? '') === '' &&
        (ref.kind ?? 'Service') === 'Service' &&
        !ctx.store.get(TYPES.services, ref.namespace ?? namespace, ref.name),
    )
    .map((ref: any) => `${ref.namespace ?? namespace}/${ref.name}`);
  const parents = (route.spec?.parentRefs ?? [])
    .filter(
      (ref: any) =>
        (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP &&
        (ref.kind ?? 'Gateway') === 'Gateway',
    )
    .map((ref: any) => {
      const gwNs = ref.namespace ?? namespace;
      const exists = !!ctx.store.get(TYPES.gateways, gwNs, ref.name);
      const previous = (route.status?.parents ?? []).find(
        (p: any) =>
          p.parentRef?.name === ref.name &&
          (p.parentRef?.namespace ?? namespace) === gwNs,
      )?.conditions;
      return {
        parentRef: ref,
        controllerName: SIMULATED_GATEWAY_CONTROLLER,
        conditions: [
          exists
            ? condition(
                'Accepted',
                true,
                'Accepted',
                'Accepted by the simulated gateway of kube-sim',
                generation,
                previous,
              )
            : condition(
                'Accepted',
                false,
                'NoMatchingParent',
                `Gateway ${gwNs}/${ref.name} not found`,
                generation,
                previous,
              ),
          missing.length
            ? condition(
                'ResolvedRefs',
                false,
                'BackendNotFound',
                `Service ${missing.join(', ')} not found`,
                generation,
                previous,
              )
            : condition(
                'ResolvedRefs',
                true,
                'ResolvedRefs',
                'All references resolved',
                generation,
                previous,
              ),
        ],
      };
    });
  const status = { parents };
  if (comparable(status) === comparable(route.status ?? {})) return;
  const next = structuredClone(route);
  next.status = status;
  ctx.store.update(TYPES.httproutes, next, { subresource: 'status' });
}
