import { InputError } from '@backstage/errors';

/** A DNS-1123 subdomain: the names of Gateways, Services and HTTPRoutes. */
const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface HttpRouteSpec {
  parentRefs: Array<{ name: string; namespace?: string }>;
  rules: Array<{
    backendRefs: Array<{ name: string; port: number; weight: number }>;
  }>;
}

/**
 * A `gateway.networking.k8s.io/v1` HTTPRoute, shaped like the `kubernetes-models` objects beside
 * it (`validate()`, `toJSON()`). `kubernetes-models` has no Gateway API types, so `validate()`
 * checks what the Gateway API's CRD schema requires of the fields the template writes: names,
 * 1 to 32 parentRefs, 1 to 16 backendRefs per rule, ports 1-65535, weights 0-1000000.
 */
export class HttpRoute {
  readonly apiVersion = 'gateway.networking.k8s.io/v1';
  readonly kind = 'HTTPRoute';

  constructor(
    readonly init: {
      metadata: {
        name: string;
        namespace: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      };
      spec: HttpRouteSpec;
    },
  ) {}

  get metadata() {
    return this.init.metadata;
  }

  validate(): void {
    const problems: string[] = [];
    const name = (what: string, value: string | undefined, max: number) => {
      if (!value || value.length > max || !DNS_SUBDOMAIN.test(value)) {
        problems.push(
          `${what} ${JSON.stringify(value)} is not a DNS-1123 name`,
        );
      }
    };
    const { metadata, spec } = this.init;
    name('metadata.name', metadata.name, 253);
    name('metadata.namespace', metadata.namespace, 63);
    if (spec.parentRefs.length < 1 || spec.parentRefs.length > 32) {
      problems.push('spec.parentRefs must have 1 to 32 entries');
    }
    spec.parentRefs.forEach((ref, i) => {
      name(`spec.parentRefs[${i}].name`, ref.name, 253);
      if (ref.namespace !== undefined)
        name(`spec.parentRefs[${i}].namespace`, ref.namespace, 63);
    });
    if (spec.rules.length < 1 || spec.rules.length > 16) {
      problems.push('spec.rules must have 1 to 16 entries');
    }
    spec.rules.forEach((rule, i) => {
      if (rule.backendRefs.length < 1 || rule.backendRefs.length > 16) {
        problems.push(`spec.rules[${i}].backendRefs must have 1 to 16 entries`);
      }
      rule.backendRefs.forEach((ref, j) => {
        const at = `spec.rules[${i}].backendRefs[${j}]`;
        name(`${at}.name`, ref.name, 253);
        if (!Number.isInteger(ref.port) || ref.port < 1 || ref.port > 65535)
          problems.push(`${at}.port must be 1 to 65535`);
        if (
          !Number.isInteger(ref.weight) ||
          ref.weight < 0 ||
          ref.weight > 1_000_000
        )
          problems.push(`${at}.weight must be 0 to 1000000`);
      });
    });
    if (problems.length) {
      throw new InputError(`Invalid HTTPRoute: ${problems.join('; ')}`);
    }
  }

  toJSON() {
    return { apiVersion: this.apiVersion, kind: this.kind, ...this.init };
  }
}
