import { InputError } from '@backstage/errors';
import { requireServiceNamespace } from '../clusters/binding';
import {
  AnalysisParams,
  AnalysisParamsInput,
  validateAnalysisParams,
} from './analysisParams';

/**
 * Delivery strategies the rollouts backend understands.
 * @public
 */
export const STRATEGIES = ['RollingUpdate', 'Canary', 'BlueGreen'] as const;
/** @public */
export type Strategy = (typeof STRATEGIES)[number];

/**
 * How a canary's traffic is split: by the ratio of stable and canary replicas behind one Service
 * (plain Kubernetes), or exactly by the weights of a Gateway API HTTPRoute.
 * @public
 */
export const TRAFFIC_ROUTINGS = ['replica-ratio', 'gateway-api'] as const;
/** @public */
export type TrafficRouting = (typeof TRAFFIC_ROUTINGS)[number];

/**
 * A Kubernetes object name (DNS-1123 label) that is also a valid crate name: lower-case letters,
 * digits and dashes, starting with a letter, at most 40 characters so that `<name>-preview` and
 * generated ReplicaSet names stay within Kubernetes' limits.
 * @public
 */
export const SERVICE_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** A DNS-1123 label: Kubernetes namespaces and cluster names. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/**
 * An OCI image repository without tag or digest: `registry.host[:port]/path/name`, lower case.
 * No `$`, `{`, quotes or spaces can pass, so the value is safe in YAML and in workflow files.
 */
export const IMAGE_REPOSITORY_PATTERN =
  /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;
/** A duration like `30s`, `5m` or `1h`. */
export const DURATION_PATTERN = /^[1-9][0-9]{0,4}(s|m|h)$/;

/** Cargo reserves these names; a service cannot be called like that. */
const RESERVED_CRATE_NAMES = new Set([
  'test',
  'core',
  'std',
  'alloc',
  'proc-macro',
  'self',
  'crate',
  'super',
]);

/**
 * The Rust version of the generated service (rust-toolchain.toml, Dockerfile and CI).
 * @public
 */
export const RUST_VERSION = '1.95.0';

/**
 * What the template form sends (after JSON-schema validation, which the scaffolder does first).
 * @public
 */
export interface ServiceParamsInput extends AnalysisParamsInput {
  name: string;
  port: number;
  strategy: string;
  canarySteps?: number[];
  autoPromotion?: boolean;
  scaleDownDelay?: string;
  trafficRouting?: string;
  gatewayName?: string;
  gatewayNamespace?: string;
  cluster: string;
  namespace: string;
  imageRepository?: string;
  imageOrganization?: string;
}

/**
 * Argo Rollouts' step vocabulary, as the rollouts backend reads it.
 * @public
 */
export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: string } };

/**
 * Parameters checked and completed with defaults: what the manifests and skeleton are built from.
 * @public
 */
export interface ServiceParams {
  name: string;
  crateName: string;
  port: number;
  strategy: Strategy;
  canarySteps: CanaryStep[];
  autoPromotion: boolean;
  scaleDownDelay: string;
  /** Canary only; `replica-ratio` for the other strategies. */
  trafficRouting: TrafficRouting;
  /** With `gateway-api`: the platform's Gateway the service's HTTPRoute attaches to. */
  gateway?: { name: string; namespace: string };
  /** Canary only, on unless switched off: the metrics the engine judges the canary by. */
  analysis?: AnalysisParams;
  cluster: string;
  namespace: string;
  imageRepository: string;
  imageRegistry: string;
  rustVersion: string;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Checks a service name, throwing an InputError that says what is wrong and how to fix it.
 * @public
 */
export function checkServiceName(name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME_PATTERN.test(name)) {
    throw new InputError(
      `Invalid service name ${describe(
        name,
      )}: use 1 to 40 lower-case letters, digits and dashes, ` +
        'starting with a letter and not ending with a dash (it is the Kubernetes name and the crate name)',
    );
  }
  if (name.includes('--')) {
    throw new InputError(
      `Invalid service name ${describe(name)}: no consecutive dashes`,
    );
  }
  if (RESERVED_CRATE_NAMES.has(name)) {
    throw new InputError(
      `Invalid service name ${describe(name)}: it is reserved by Cargo`,
    );
  }
  return name;
}

/**
 * Checks canary traffic weights: each 1 to 99, strictly increasing, so every step sends more
 * traffic to the new version than the one before; full promotion (100) is appended.
 * @public
 */
export function canaryStepsFromWeights(weights: unknown): CanaryStep[] {
  if (!Array.isArray(weights) || weights.length === 0) {
    throw new InputError(
      'Canary steps: give at least one traffic weight, e.g. [20, 50]',
    );
  }
  if (weights.length > 10) {
    throw new InputError(
      `Canary steps: at most 10 weights, got ${weights.length}`,
    );
  }
  weights.forEach((weight, index) => {
    if (!Number.isInteger(weight) || weight < 1 || weight > 99) {
      throw new InputError(
        `Canary step ${index + 1} is ${describe(
          weight,
        )}: each weight must be a whole percentage from 1 to 99 (100 is the final promotion)`,
      );
    }
    if (index > 0 && weight <= weights[index - 1]) {
      throw new InputError(
        `Canary steps must increase: step ${
          index + 1
        } (${weight}%) is not above step ${index} (${weights[index - 1]}%)`,
      );
    }
  });
  return [
    ...weights.flatMap((weight: number): CanaryStep[] => [
      { setWeight: weight },
      { pause: {} },
    ]),
    { setWeight: 100 },
  ];
}

/** The registry host of an image repository (`ghcr.io` for `ghcr.io/acme/api`). */
export function imageRegistryOf(repository: string): string {
  return repository.split('/')[0];
}

/**
 * Validates everything the form sends, on the server: the form's own checks can be bypassed by a
 * direct API call, and JSON schema cannot say "strictly increasing".
 * @public
 */
export function validateServiceParams(
  input: ServiceParamsInput,
): ServiceParams {
  const name = checkServiceName(input.name);
  const port = input.port;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new InputError(
      `Invalid port ${describe(
        port,
      )}: use a whole number from 1024 to 65535 (the service runs as a non-root user)`,
    );
  }
  if (!(STRATEGIES as readonly string[]).includes(input.strategy)) {
    throw new InputError(
      `Invalid strategy ${describe(
        input.strategy,
      )}: use one of ${STRATEGIES.join(', ')}`,
    );
  }
  const strategy = input.strategy as Strategy;
  const canarySteps =
    strategy === 'Canary'
      ? canaryStepsFromWeights(input.canarySteps ?? [20, 50])
      : [];
  const scaleDownDelay = input.scaleDownDelay ?? '30s';
  if (!DURATION_PATTERN.test(scaleDownDelay)) {
    throw new InputError(
      `Invalid scale-down delay ${describe(
        scaleDownDelay,
      )}: use a number followed by s, m or h, e.g. 30s`,
    );
  }
  const trafficRouting = (
    strategy === 'Canary'
      ? input.trafficRouting ?? 'replica-ratio'
      : 'replica-ratio'
  ) as TrafficRouting;
  if (!(TRAFFIC_ROUTINGS as readonly string[]).includes(trafficRouting)) {
    throw new InputError(
      `Invalid traffic routing ${describe(
        input.trafficRouting,
      )}: use one of ${TRAFFIC_ROUTINGS.join(', ')}`,
    );
  }
  const routed = trafficRouting === 'gateway-api';
  for (const [label, value] of [
    ['cluster', input.cluster],
    ['namespace', input.namespace],
    ...(routed
      ? ([
          ['Gateway name', input.gatewayName],
          ['Gateway namespace', input.gatewayNamespace],
        ] as const)
      : []),
  ] as const) {
    if (typeof value !== 'string' || !DNS_LABEL_PATTERN.test(value)) {
      throw new InputError(
        `Invalid ${label} ${describe(
          value,
        )}: use lower-case letters, digits and dashes (at most 63)`,
      );
    }
  }
  // Also for the GitHub target, whose manifests someone else applies later.
  requireServiceNamespace(input.namespace as string);
  const organization = input.imageOrganization || 'example-org';
  const imageRepository =
    input.imageRepository && input.imageRepository.trim() !== ''
      ? input.imageRepository.trim()
      : `ghcr.io/${organization.toLocaleLowerCase('en-US')}/${name}`;
  if (
    !IMAGE_REPOSITORY_PATTERN.test(imageRepository) ||
    imageRepository.length > 255
  ) {
    throw new InputError(
      `Invalid image repository ${describe(
        imageRepository,
      )}: use registry/path/name in lower case without tag, e.g. ghcr.io/acme/${name}`,
    );
  }
  const analysis = validateAnalysisParams(input, strategy);
  return {
    name,
    crateName: name.replace(/-/g, '_'),
    port,
    strategy,
    canarySteps,
    autoPromotion: input.autoPromotion ?? false,
    scaleDownDelay,
    trafficRouting,
    ...(routed
      ? {
          gateway: {
            name: input.gatewayName as string,
            namespace: input.gatewayNamespace as string,
          },
        }
      : {}),
    ...(analysis ? { analysis } : {}),
    cluster: input.cluster,
    namespace: input.namespace,
    imageRepository,
    imageRegistry: imageRegistryOf(imageRepository),
    rustVersion: RUST_VERSION,
  };
}
