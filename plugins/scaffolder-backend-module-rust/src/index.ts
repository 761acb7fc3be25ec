/**
 * Scaffolder actions of the Rust service template: parameter validation, Kubernetes manifests
 * from typed objects, and the local target (folder, catalog file location, cluster apply).
 *
 * @packageDocumentation
 */
export { scaffolderModuleRust as default } from './module';
export { createParamsValidateAction } from './actions/paramsValidate';
export type {
  AnalysisParams,
  AnalysisParamsInput,
} from './params/analysisParams';
export { createManifestsRenderAction } from './actions/manifestsRender';
export { createLocalPublishAction } from './actions/localPublish';
export { createCatalogRegisterFileAction } from './actions/catalogRegisterFile';
export {
  createManifestsApplyAction,
  readManifests,
} from './actions/manifestsApply';
export { createManifestsCheckAction } from './actions/manifestsCheck';
export { ClusterApplier, APPLIED_KINDS } from './clusters/ClusterApplier';
export type {
  AppliedKind,
  AppliedObject,
  ApplyPlan,
} from './clusters/ClusterApplier';
export { LocalTarget, LOCAL_DIRECTORY_CONFIG_KEY } from './local/LocalTarget';
export {
  buildManifests,
  objectNames,
  serviceEntityRef,
} from './manifests/buildManifests';
export type { Manifest } from './manifests/buildManifests';
export {
  writeManifests,
  toYaml,
  MANIFESTS_DIRECTORY,
} from './manifests/writeManifests';
export {
  validateServiceParams,
  canaryStepsFromWeights,
  checkServiceName,
  RUST_VERSION,
  SERVICE_NAME_PATTERN,
  STRATEGIES,
  TRAFFIC_ROUTINGS,
} from './params/serviceParams';
export type {
  ServiceParams,
  ServiceParamsInput,
  CanaryStep,
  Strategy,
  TrafficRouting,
} from './params/serviceParams';
