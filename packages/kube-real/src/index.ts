/**
 * kube-real: a real Kubernetes control plane (Debian's 1.20.2 build of etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler) on loopback for tests and `make start CLUSTER=real`,
 * with a KWOK-style node agent that runs pods through kube-sim's lifecycle.
 *
 * @packageDocumentation
 */

export { startRealCluster } from './RealCluster';
export type {
  RealCluster,
  RealClusterOptions,
  RealClusterUser,
} from './RealCluster';
export { startNodeAgent } from './agent/NodeAgent';
export type { NodeAgent, NodeAgentOptions } from './agent/NodeAgent';
export {
  locateBinaries,
  binDir,
  cacheRoot,
  BUILD_SCRIPT,
  KUBERNETES_VERSION,
} from './binaries';
export type { ControlPlaneBinaries } from './binaries';
export { tokenKubeconfig } from './kubeconfig';
export { REAL_CLUSTER_KUBERNETES_PLUGIN } from './kubernetesPlugin';
export type { KubernetesPluginSettings } from './kubernetesPlugin';

// One suite, two targets: kube-sim and this real cluster behind the same test controls.
export * from './targets';

// Gateway API and Argo Rollouts on the real server: our CRDs, and kube-sim's simulated controllers.
export {
  installCrds,
  crdKinds,
  CRD_SETS,
  GATEWAY_API_CRDS,
  ARGO_ROLLOUTS_CRDS,
} from './crds';
export type { CrdSet } from './crds';
export { startSimulatedControllers } from './controllers/SimulatedControllers';
export type { SimulatedControllers } from './controllers/SimulatedControllers';
export { kubectl } from './kubectl';
