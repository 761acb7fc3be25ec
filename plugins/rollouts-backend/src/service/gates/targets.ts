/** Where a gate applies: clusters and namespaces, each absent meaning all. */
export interface TargetScope {
  clusters?: string[];
  namespaces?: string[];
}

/** The workload a start or action is aimed at. */
export interface GateTarget {
  cluster: string;
  namespace: string;
}

export function scopeMatches(scope: TargetScope, target: GateTarget) {
  return (
    (!scope.clusters || scope.clusters.includes(target.cluster)) &&
    (!scope.namespaces || scope.namespaces.includes(target.namespace))
  );
}
