import type { KubeSim } from './KubeSim';

const GV = 'gateway.networking.k8s.io/v1';

function ready(pod: any) {
  return (pod.status?.conditions ?? []).some(
    (c: any) => c.type === 'Ready' && c.status === 'True',
  );
}

/**
 * For tests of traffic routing: every backendRef of the HTTPRoutes in `namespace` that the route
 * gives weight to while its Service selects no ready pod (a request sent there would fail), as
 * `route -> service (weight)`. Empty when every weighted backend could serve.
 * @public
 */
export function unservedRouteBackends(
  control: Pick<KubeSim['control'], 'get' | 'list'>,
  namespace: string,
): string[] {
  const out: string[] = [];
  for (const route of control.list(GV, 'HTTPRoute', namespace)) {
    for (const rule of route.spec?.rules ?? []) {
      for (const ref of rule.backendRefs ?? []) {
        const weight = ref.weight ?? 1;
        if (weight <= 0) continue;
        const selector = control.get(
          'v1',
          'Service',
          ref.namespace ?? namespace,
          ref.name,
        )?.spec?.selector;
        const pods = selector
          ? control.list(
              'v1',
              'Pod',
              ref.namespace ?? namespace,
              Object.entries(selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
            )
          : [];
        if (!pods.some(ready)) {
          out.push(`${route.metadata.name} -> ${ref.name} (${weight})`);
        }
      }
    }
  }
  return out;
}

/**
 * The weights of the first rule of an HTTPRoute by backend name: `{ web: 80, 'web-canary': 20 }`.
 * @public
 */
export function routeWeights(
  control: Pick<KubeSim['control'], 'get' | 'list'>,
  namespace: string,
  name: string,
): Record<string, number> {
  const refs =
    control.get(GV, 'HTTPRoute', namespace, name)?.spec?.rules?.[0]
      ?.backendRefs ?? [];
  return Object.fromEntries(refs.map((r: any) => [r.name, r.weight ?? 1]));
}
