/**
 * kube-sim: a local Kubernetes API simulator for development and tests. It is not a cluster.
 *
 * @packageDocumentation
 */

export { startKubeSim, kubeconfigYaml } from './KubeSim';
export type {
  KubeSim,
  KubeSimOptions,
  KubeSimFaults,
  RecordedWrite,
} from './KubeSim';
export { unservedRouteBackends, routeWeights } from './gatewayTraffic';
export type { PodMetricsOptions } from './pods/PodMetricsServers';
export { trafficBehaviour } from './pods/trafficProfile';
export {
  startPrometheus,
  prometheusConfig,
} from './prometheus/startPrometheus';
export type {
  PrometheusOptions,
  RunningPrometheus,
} from './prometheus/startPrometheus';
export type { TrafficBehaviour } from './pods/trafficProfile';
export {
  podLifecycle,
  imageBehaviour,
  canonicalJson,
  START_AFTER_BINDING,
} from './lifecycle/podLifecycle';
export type {
  PodClock,
  PodLifecycleOptions,
  PodLifecycleStep,
  KubeletEvent,
  ImageBehaviour,
} from './lifecycle/podLifecycle';
// kube-sim's simulated Gateway API and Argo Rollouts controllers, for kube-real to run against a
// real API server as external controllers (packages/kube-real/src/controllers).
export {
  reconcileGateway,
  reconcileHttpRoute,
  SIMULATED_GATEWAY_CONTROLLER,
} from './controllers/gateways';
export { ArgoRolloutController } from './controllers/argoRollouts';
export { TYPES as CONTROLLER_TYPES, PodRuntime } from './controllers/types';
export type { ControllerContext, PodTimeline } from './controllers/types';
export type { EventRecorder } from './controllers/EventRecorder';
export type {
  ObjectStore,
  StoredObject,
  ChangeEvent,
  WatchEventType,
  WriteOptions,
  Listener,
} from './store/ObjectStore';
export type { ResourceType } from './api/resources';
