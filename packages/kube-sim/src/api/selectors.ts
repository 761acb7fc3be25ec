import { errors } from './status';

/** Label and field selectors, parsed once per request into predicates. */

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type Matcher = (obj: any) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map(t => t.trim()).filter(Boolean);
}

export function parseLabelSelector(selector: string): Requirement[] {
  return splitTerms(selector).map(term => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      return {
        key: m[1],
        op: m[2] as 'in' | 'notin',
        values: m[3]
          .split(',')
          .map(v => v.trim())
          .filter(Boolean),
      };
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
    if (m) {
      return { key: m[1], op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] };
    }
    m = /^(!?)\s*([\w./-]+)$/.exec(term);
    if (m) return { key: m[2], op: m[1] ? 'notexists' : 'exists' };
    throw errors.badRequest(
      `unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`,
    );
  });
}

export function labelsMatch(
  labels: Record<string, string> | undefined,
  reqs: Requirement[],
): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        if (!has || l[r.key] !== r.value) return false;
        break;
      case 'neq':
        if (has && l[r.key] === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(l[r.key])) return false;
        break;
      case 'notin':
        if (has && r.values.includes(l[r.key])) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      default:
    }
  }
  return true;
}

/** A Deployment/ReplicaSet `spec.selector` (matchLabels + matchExpressions) as requirements. */
export function requirementsFromSelector(selector: any): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    reqs.push({ key, op: 'eq', value: String(value) });
  }
  for (const e of selector?.matchExpressions ?? []) {
    const op = String(e.operator);
    if (op === 'In')
      reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (op === 'NotIn')
      reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (op === 'Exists') reqs.push({ key: e.key, op: 'exists' });
    else if (op === 'DoesNotExist') reqs.push({ key: e.key, op: 'notexists' });
  }
  return reqs;
}

export function selectorToString(selector: any): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    parts.push(`${key}=${value}`);
  }
  for (const e of selector?.matchExpressions ?? []) {
    const op = String(e.operator);
    if (op === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (op === 'NotIn')
      parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (op === 'Exists') parts.push(e.key);
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

function fieldValue(obj: any, path: string): string {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === undefined || cur === null) return '';
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

const SUPPORTED_FIELDS = new Set([
  'metadata.name',
  'metadata.namespace',
  'status.phase',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'status.podIP',
  'status.nominatedNodeName',
  'type',
  'reason',
  'involvedObject.kind',
  'involvedObject.name',
  'involvedObject.namespace',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'source',
  'spec.unschedulable',
]);

export function parseFieldSelector(selector: string): Matcher {
  const reqs = splitTerms(selector).map(term => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m)
      throw errors.badRequest(
        `invalid selector: '${selector}'; can't understand '${term}'`,
      );
    if (!SUPPORTED_FIELDS.has(m[1])) {
      throw errors.badRequest(`field label not supported: ${m[1]}`);
    }
    return { path: m[1], neg: m[2] === '!=', value: m[3] };
  });
  return obj =>
    reqs.every(r => (fieldValue(obj, r.path) === r.value) !== r.neg);
}

export function buildMatcher(
  labelSelector: string | null,
  fieldSelector: string | null,
): Matcher | undefined {
  const label = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const field = fieldSelector ? parseFieldSelector(fieldSelector) : undefined;
  if (!label && !field) return undefined;
  return obj =>
    (!label || labelsMatch(obj?.metadata?.labels, label)) &&
    (!field || field(obj));
}
