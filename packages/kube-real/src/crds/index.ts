import { RestClient } from '../targets/RestClient';
import { ARGO_ROLLOUTS_CRDS } from './argoRollouts';
import { GATEWAY_API_CRDS } from './gatewayApi';

export { ARGO_ROLLOUTS_CRDS } from './argoRollouts';
export { GATEWAY_API_CRDS } from './gatewayApi';

/** The API groups a real cluster can be given, as CustomResourceDefinitions of our own. */
export type CrdSet = 'gateway-api' | 'argo-rollouts';

export const CRD_SETS: Record<CrdSet, any[]> = {
  'gateway-api': GATEWAY_API_CRDS,
  'argo-rollouts': ARGO_ROLLOUTS_CRDS,
};

/** The kinds each set serves, as [apiVersion, kind]. */
export function crdKinds(sets: CrdSet[]): Array<[string, string]> {
  return sets.flatMap(s =>
    CRD_SETS[s].map(
      c =>
        [`${c.spec.group}/${c.spec.versions[0].name}`, c.spec.names.kind] as [
          string,
          string,
        ],
    ),
  );
}

/**
 * Creates (or replaces) the sets' CRDs and resolves once each is Established and its version is
 * in discovery, so that the next request for the kind is served, not 404.
 */
export async function installCrds(
  client: RestClient,
  sets: CrdSet[],
  timeoutMs = 60_000,
): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const crds = sets.flatMap(s => CRD_SETS[s]);
  for (const c of crds) {
    const created = await client.request('POST', base, c);
    if (created.status === 409) {
      const current = await client.request('GET', `${base}/${c.metadata.name}`);
      const replaced = await client.request(
        'PUT',
        `${base}/${c.metadata.name}`,
        {
          ...c,
          metadata: {
            ...c.metadata,
            resourceVersion: current.body?.metadata?.resourceVersion,
          },
        },
      );
      if (replaced.status !== 200)
        throw new Error(
          `kube-real: replacing CRD ${c.metadata.name} answered ${replaced.status}: ${replaced.body?.message}`,
        );
    } else if (created.status !== 201) {
      throw new Error(
        `kube-real: creating CRD ${c.metadata.name} answered ${created.status}: ${created.body?.message}`,
      );
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const c of crds) {
    const gv = `${c.spec.group}/${c.spec.versions[0].name}`;
    for (;;) {
      const got = await client.request('GET', `${base}/${c.metadata.name}`);
      const established = (got.body?.status?.conditions ?? []).some(
        (x: any) => x.type === 'Established' && x.status === 'True',
      );
      const served =
        established &&
        (
          (await client.request('GET', `/apis/${gv}`)).body?.resources ?? []
        ).some((r: any) => r.name === c.spec.names.plural);
      if (served) break;
      if (Date.now() > deadline)
        throw new Error(
          `kube-real: CRD ${
            c.metadata.name
          } not served after ${timeoutMs} ms: ${JSON.stringify(
            got.body?.status?.conditions,
          )}`,
        );
      await new Promise(r => setTimeout(r, 100));
    }
  }
}
