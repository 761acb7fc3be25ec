export { clusterTargets } from './targets';
export type {
  ClusterTarget,
  ClusterTargetName,
  TestCluster,
  TestClusterOptions,
} from './targets';
export { startFaultProxy, NO_FAULTS } from './FaultProxy';
export type { ClusterFaults, FaultProxy } from './FaultProxy';
export { ClusterMirror, ChangeReplay, MIRRORED_KINDS } from './ClusterMirror';
export { RestClient } from './RestClient';
export type { ClusterEndpoint, RestResponse } from './RestClient';
export type { ProxiedWrite } from './FaultProxy';
