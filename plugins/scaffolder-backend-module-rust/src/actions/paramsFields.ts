import type { TemplateActionOptions } from '@backstage/plugin-scaffolder-node';
import type { ServiceParamsInput } from '../params/serviceParams';

/** The zod instance the scaffolder hands to schema callbacks (its own copy, zod/v3 API). */
type FieldCallbacks = Exclude<
  NonNullable<NonNullable<TemplateActionOptions['schema']>['input']>,
  (...args: any[]) => any
>;
export type FieldCallback = FieldCallbacks[string];
export type Zod = Parameters<FieldCallback>[0];

/**
 * One zod field per property of `T`, in `T`'s declaration order. A mapped type over `keyof T`
 * keeps that order; `Record<keyof T, ...>` would not (it follows the key union's internal order,
 * which differs between compilations and made the API report flip).
 */
export type FieldsOf<T> = { [K in keyof T]-?: FieldCallback };

/**
 * The service parameters as zod fields, shared by the actions that take them. The JSON schema the
 * scaffolder derives from these checks types; `validateServiceParams` checks the rest. (Typed
 * loosely on purpose: the scaffolder's own zod copy cannot be named in a declaration.)
 */
export const serviceParamsFields: FieldsOf<ServiceParamsInput> = {
  name: (zod: Zod) =>
    zod
      .string()
      .describe('Service name: the Kubernetes object names and the crate name'),
  port: (zod: Zod) =>
    zod
      .number()
      .int()
      .describe('HTTP port the service listens on (1024-65535)'),
  strategy: (zod: Zod) =>
    zod
      .enum(['RollingUpdate', 'Canary', 'BlueGreen'])
      .describe('Delivery strategy'),
  canarySteps: (zod: Zod) =>
    zod
      .array(zod.number())
      .optional()
      .describe(
        'Canary: traffic weights in percent, strictly increasing, each 1-99 (default [20, 50])',
      ),
  autoPromotion: (zod: Zod) =>
    zod
      .boolean()
      .optional()
      .describe(
        'BlueGreen: promote as soon as the preview is ready (default false)',
      ),
  scaleDownDelay: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe(
        'BlueGreen: how long the old version stays up after promotion (default 30s)',
      ),
  trafficRouting: (zod: Zod) =>
    zod
      .enum(['replica-ratio', 'gateway-api'])
      .optional()
      .describe(
        'Canary: split traffic by replica ratio (default) or exactly through a Gateway API HTTPRoute',
      ),
  gatewayName: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe(
        'Canary through the Gateway API: the parent Gateway of the HTTPRoute',
      ),
  gatewayNamespace: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe(
        'Canary through the Gateway API: the namespace of that Gateway',
      ),
  analysis: (zod: Zod) =>
    zod
      .boolean()
      .optional()
      .describe(
        'Canary: judge the canary by its 5xx share and p99 latency in Prometheus (default true)',
      ),
  analysisMaxErrorPercent: (zod: Zod) =>
    zod
      .number()
      .optional()
      .describe(
        'Canary analysis: a measurement passes below this share of 5xx responses, in percent (default 1)',
      ),
  analysisFailErrorPercent: (zod: Zod) =>
    zod
      .number()
      .optional()
      .describe(
        'Canary analysis: a measurement fails at or above this share of 5xx responses, in percent (default 5)',
      ),
  analysisMaxLatencyMs: (zod: Zod) =>
    zod
      .number()
      .int()
      .optional()
      .describe(
        'Canary analysis: a measurement passes below this p99 latency in milliseconds, and fails at or above it (default 500)',
      ),
  analysisInterval: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe(
        'Canary analysis: time between measurements, 10s to 60m (default 30s)',
      ),
  analysisFailureLimit: (zod: Zod) =>
    zod
      .number()
      .int()
      .optional()
      .describe(
        'Canary analysis: failed measurements a metric tolerates before the canary is aborted (default 1)',
      ),
  cluster: (zod: Zod) =>
    zod.string().describe('Cluster name from kubernetes.clusterLocatorMethods'),
  namespace: (zod: Zod) => zod.string().describe('Kubernetes namespace'),
  imageRepository: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe(
        'Image repository without tag (default ghcr.io/<imageOrganization>/<name>)',
      ),
  imageOrganization: (zod: Zod) =>
    zod
      .string()
      .optional()
      .describe('Organization used in the default image repository'),
};
