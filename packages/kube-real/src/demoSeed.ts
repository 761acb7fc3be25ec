import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * kube-sim's demo seed as this control plane can take it: without its Gateway API objects
 * (payments-api's HTTPRoute and the Gateway), which kube-sim serves and simulates a gateway
 * controller for, and which need CRDs and a controller this control plane does not have.
 */
export function demoSeedForRealCluster(): object[] {
  const dir = path.dirname(require.resolve('@internal/kube-sim/package.json'));
  const text = fs.readFileSync(path.join(dir, 'seeds', 'demo.yaml'), 'utf8');
  return parseAllDocuments(text)
    .map(d => d.toJSON())
    .filter(Boolean)
    .filter(
      (o: any) =>
        !String(o.apiVersion).startsWith('gateway.networking.k8s.io/'),
    );
}
