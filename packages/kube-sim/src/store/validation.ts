import { ResourceType } from '../api/resources';
import { StatusCause } from '../api/status';

/** The subset of kube-apiserver validation that clients notice: names and required fields. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateName(name: string, labelOnly: boolean): string[] {
  const problems: string[] = [];
  if (labelOnly) {
    if (name.length > 63) problems.push('must be no more than 63 characters');
    if (!DNS1123_LABEL.test(name)) {
      problems.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
  } else {
    if (name.length > 253) problems.push('must be no more than 253 characters');
    if (!DNS1123_SUBDOMAIN.test(name)) {
      problems.push(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    }
  }
  return problems;
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

function invalid(field: string, value: unknown, message: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${message}`,
    field,
  };
}

function validateContainers(containers: any, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!Array.isArray(containers) || containers.length === 0) {
    return [required(field)];
  }
  const names = new Set<string>();
  containers.forEach((c: any, i: number) => {
    const f = `${field}[${i}]`;
    if (!c?.name) causes.push(required(`${f}.name`));
    else {
      for (const p of validateName(String(c.name), true)) {
        causes.push(invalid(`${f}.name`, c.name, p));
      }
      if (names.has(c.name)) {
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(c.name)}`,
          field: `${f}.name`,
        });
      }
      names.add(c.name);
    }
    if (!c?.image) causes.push(required(`${f}.image`));
  });
  return causes;
}

function labelsSubset(selector: any, labels: any): boolean {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  return true;
}

function validateWorkload(obj: any, podTemplate: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = obj.spec;
  if (!spec) return [required('spec')];
  if (
    spec.replicas !== undefined &&
    (typeof spec.replicas !== 'number' || spec.replicas < 0)
  ) {
    causes.push(
      invalid(
        'spec.replicas',
        spec.replicas,
        'must be greater than or equal to 0',
      ),
    );
  }
  if (!spec.selector) causes.push(required('spec.selector'));
  else if (
    !Object.keys(spec.selector.matchLabels ?? {}).length &&
    !(spec.selector.matchExpressions ?? []).length
  ) {
    causes.push(
      invalid(
        'spec.selector',
        spec.selector,
        'empty selector is invalid for deployment',
      ),
    );
  }
  if (podTemplate) {
    if (!spec.template) causes.push(required('spec.template'));
    else {
      if (
        spec.selector &&
        !labelsSubset(spec.selector, spec.template.metadata?.labels)
      ) {
        causes.push(
          invalid(
            'spec.template.metadata.labels',
            spec.template.metadata?.labels ?? {},
            '`selector` does not match template `labels`',
          ),
        );
      }
      causes.push(
        ...validateContainers(
          spec.template.spec?.containers,
          'spec.template.spec.containers',
        ),
      );
    }
  }
  return causes;
}

/**
 * The API server refuses special addresses in Endpoints (validateNonSpecialIP): unspecified,
 * link-local and link-local multicast ones, and loopback ones too. kube-sim refuses the first three
 * and deliberately accepts loopback: its simulated pods have 127.x addresses (nothing here may ever
 * point at a private range), and its endpoints controller publishes them. On a real server the
 * same pods (the kube-real node agent's) are refused in Endpoints; README, "Fidelity".
 */
function validateEndpointAddresses(obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  (obj?.subsets ?? []).forEach((subset: any, i: number) => {
    for (const list of ['addresses', 'notReadyAddresses']) {
      (subset?.[list] ?? []).forEach((a: any, j: number) => {
        const ip = String(a?.ip ?? '');
        const field = `subsets[${i}].${list}[${j}].ip`;
        if (ip === '0.0.0.0') {
          causes.push(invalid(field, ip, 'may not be unspecified (0.0.0.0)'));
        } else if (/^169\.254\./.test(ip)) {
          causes.push(
            invalid(
              field,
              ip,
              'may not be in the link-local range (169.254.0.0/16)',
            ),
          );
        } else if (/^224\.0\.0\./.test(ip)) {
          causes.push(
            invalid(
              field,
              ip,
              'may not be in the link-local multicast range (224.0.0.0/24)',
            ),
          );
        }
      });
    }
  });
  return causes;
}

export function validateObject(type: ResourceType, obj: any): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj?.metadata?.name;
  if (!name) {
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  } else {
    for (const p of validateName(String(name), !!type.dnsLabelName)) {
      causes.push(invalid('metadata.name', name, p));
    }
  }
  for (const [k, v] of Object.entries(obj?.metadata?.labels ?? {})) {
    if (
      typeof v !== 'string' ||
      v.length > 63 ||
      !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)
    ) {
      causes.push(
        invalid(
          `metadata.labels`,
          v,
          `a valid label value must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (key ${k})`,
        ),
      );
    }
  }
  switch (`${type.group}/${type.kind}`) {
    case 'apps/Deployment':
    case 'apps/ReplicaSet':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
      causes.push(...validateWorkload(obj, true));
      break;
    case '/Pod':
      causes.push(
        ...validateContainers(obj?.spec?.containers, 'spec.containers'),
      );
      break;
    case '/Endpoints':
      causes.push(...validateEndpointAddresses(obj));
      break;
    case '/Service': {
      const spec = obj?.spec ?? {};
      if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
        if (!Array.isArray(spec.ports) || spec.ports.length === 0) {
          causes.push(required('spec.ports'));
        }
      }
      (spec.ports ?? []).forEach((p: any, i: number) => {
        if (typeof p?.port !== 'number' || p.port < 1 || p.port > 65535) {
          causes.push(
            invalid(
              `spec.ports[${i}].port`,
              p?.port,
              'must be between 1 and 65535, inclusive',
            ),
          );
        }
      });
      break;
    }
    default:
  }
  return causes;
}
