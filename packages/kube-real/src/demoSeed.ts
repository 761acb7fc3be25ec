import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CrdSet } from './crds';

/** API groups of the demo that need our CRDs (and kube-sim's simulated controllers for them). */
const GROUPS: Record<CrdSet, string> = {
  'gateway-api': 'gateway.networking.k8s.io/',
  'argo-rollouts': 'argoproj.io/',
};

/**
 * kube-sim's demo seed as a real cluster with the given CRD sets can take it: its Gateway API
 * objects (payments-api's HTTPRoute and the Gateway) only with 'gateway-api', its Argo Rollout
 * (shipping-api) only with 'argo-rollouts'. The CLI installs both and runs the simulated
 * controllers (`startSimulatedControllers`), so `make start CLUSTER=real` gets the whole demo.
 */
export function demoSeedForRealCluster(crds: CrdSet[] = []): object[] {
  const dir = path.dirname(
    require.resolve('@rust-delivery-portal/kube-sim/package.json'),
  );
  const text = fs.readFileSync(path.join(dir, 'seeds', 'demo.yaml'), 'utf8');
  const missing = (Object.keys(GROUPS) as CrdSet[])
    .filter(set => !crds.includes(set))
    .map(set => GROUPS[set]);
  return parseAllDocuments(text)
    .map(d => d.toJSON())
    .filter(Boolean)
    .filter(
      (o: any) =>
        !missing.some(group => String(o.apiVersion).startsWith(group)),
    );
}
