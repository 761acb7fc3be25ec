import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** API groups of the demo that kube-sim serves and simulates, and this control plane has no CRDs for. */
const SIMULATED_ONLY = ['gateway.networking.k8s.io/', 'argoproj.io/'];

/**
 * kube-sim's demo seed as this control plane can take it: without its Gateway API objects
 * (payments-api's HTTPRoute and the Gateway) and its Argo Rollout (shipping-api), which kube-sim
 * serves and simulates controllers for, and which need CRDs and controllers this control plane
 * does not have.
 */
export function demoSeedForRealCluster(): object[] {
  const dir = path.dirname(require.resolve('@internal/kube-sim/package.json'));
  const text = fs.readFileSync(path.join(dir, 'seeds', 'demo.yaml'), 'utf8');
  return parseAllDocuments(text)
    .map(d => d.toJSON())
    .filter(Boolean)
    .filter(
      (o: any) =>
        !SIMULATED_ONLY.some(group => String(o.apiVersion).startsWith(group)),
    );
}
