import { errors } from './status';

/** The three patch types of the Kubernetes API: JSON merge (RFC 7386), JSON (RFC 6902), strategic merge. */

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function decodePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw errors.badRequest(`invalid JSON pointer: ${path}`);
  return path
    .slice(1)
    .split('/')
    .map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: any, parts: string[], op: string) {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !(p in cur)) {
      throw errors.unprocessable(
        `${op} operation does not apply: doc is missing path: /${parts.join(
          '/',
        )}`,
      );
    }
    cur = Array.isArray(cur) ? cur[Number(p)] : cur[p];
  }
  if (cur === null || typeof cur !== 'object') {
    throw errors.unprocessable(
      `${op} operation does not apply: doc is missing path: /${parts.join(
        '/',
      )}`,
    );
  }
  return cur;
}

function getAt(doc: any, parts: string[]): any {
  let cur = doc;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !(p in cur))
      return undefined;
    cur = cur[p];
  }
  return cur;
}

function jsonPatchOp(doc: any, op: any): any {
  const parts = decodePointer(String(op?.path ?? ''));
  const name = String(op?.op);
  let out = doc;
  const put = (value: any) => {
    if (parts.length === 0) {
      out = value;
      return;
    }
    const parent = resolveParent(out, parts, name);
    const last = parts[parts.length - 1];
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (!(idx >= 0 && idx <= parent.length)) {
        throw errors.unprocessable(
          `${name} operation does not apply: index out of range`,
        );
      }
      if (name === 'replace') parent[idx] = value;
      else parent.splice(idx, 0, value);
    } else {
      if (name === 'replace' && !(last in parent)) {
        throw errors.unprocessable(
          `replace operation does not apply: doc is missing key: /${parts.join(
            '/',
          )}`,
        );
      }
      parent[last] = value;
    }
  };
  const remove = (p: string[]) => {
    const parent = resolveParent(out, p, 'remove');
    const last = p[p.length - 1];
    if (Array.isArray(parent)) {
      const idx = Number(last);
      if (!(idx >= 0 && idx < parent.length)) {
        throw errors.unprocessable(
          'remove operation does not apply: index out of range',
        );
      }
      return parent.splice(idx, 1)[0];
    }
    if (!(last in parent)) {
      throw errors.unprocessable(
        `remove operation does not apply: doc is missing path: /${p.join('/')}`,
      );
    }
    const v = parent[last];
    delete parent[last];
    return v;
  };
  switch (name) {
    case 'add':
    case 'replace':
      put(structuredClone(op.value));
      break;
    case 'remove':
      remove(parts);
      break;
    case 'move':
      put(remove(decodePointer(String(op.from))));
      break;
    case 'copy':
      put(structuredClone(getAt(out, decodePointer(String(op.from)))));
      break;
    case 'test':
      if (JSON.stringify(getAt(out, parts)) !== JSON.stringify(op.value)) {
        throw errors.unprocessable(`testing value /${parts.join('/')} failed`);
      }
      break;
    default:
      throw errors.badRequest(`Unexpected kind: ${name}`);
  }
  return out;
}

export function jsonPatch(target: any, ops: any): any {
  if (!Array.isArray(ops)) {
    throw errors.badRequest(
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
  }
  return ops.reduce((doc, op) => jsonPatchOp(doc, op), structuredClone(target));
}

/**
 * Merge keys of the lists that strategic merge patch merges instead of replacing, by field name
 * (and, for `ports`, by where the list lives). Other lists are replaced, as for fields without a
 * `patchStrategy` in the Kubernetes types.
 */
function mergeKeyFor(path: string[], field: string): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'readinessGates':
      return field === 'readinessGates' ? 'conditionType' : 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'conditions':
      return 'type';
    case 'hostAliases':
      return 'ip';
    case 'ownerReferences':
      return 'uid';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports': {
      const parent = path[path.length - 1];
      const inContainer = path.some(
        p =>
          p === 'containers' ||
          p === 'initContainers' ||
          p === 'ephemeralContainers',
      );
      if (inContainer || parent === undefined) return 'containerPort';
      return 'port';
    }
    default:
      return undefined;
  }
}

const PRIMITIVE_MERGE_LISTS = new Set(['finalizers']);

function strategicList(
  path: string[],
  field: string,
  original: any,
  patch: any[],
): any {
  const key = mergeKeyFor(path, field);
  if (PRIMITIVE_MERGE_LISTS.has(field)) {
    const out = Array.isArray(original) ? [...original] : [];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  if (!key) {
    return patch
      .filter(v => !(isObject(v) && v.$patch))
      .map(v => stripDirectives(v));
  }
  if (patch.some(v => isObject(v) && v.$patch === 'replace')) {
    return patch
      .filter(v => !(isObject(v) && v.$patch === 'replace'))
      .map(v => stripDirectives(v));
  }
  const out: any[] = Array.isArray(original)
    ? original.map(v => structuredClone(v))
    : [];
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(item);
      continue;
    }
    const idx = out.findIndex(o => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], item, [...path, field]);
    else out.push(strategicMerge({}, item, [...path, field]));
  }
  return out;
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (val === null) continue;
    out[k] = stripDirectives(val);
  }
  return out;
}

function orderBy(list: any[], order: any[], key: string | undefined): any[] {
  if (!Array.isArray(order)) return list;
  const ident = (v: any) => (key && isObject(v) ? v[key] : v);
  const wanted = order.map(ident);
  const ordered = wanted
    .map(w => list.find(v => ident(v) === w))
    .filter(v => v !== undefined);
  const rest = list.filter(v => !wanted.includes(ident(v)));
  return [...ordered, ...rest];
}

export function strategicMerge(
  original: any,
  patch: any,
  path: string[] = [],
): any {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, any> = isObject(original) ? { ...original } : {};
  const orders: Array<[string, any]> = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      orders.push([k.slice('$setElementOrder/'.length), v]);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) {
        out[field] = out[field].filter((x: any) => !v.includes(x));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = strategicList(path, k, out[k], v);
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  for (const [field, order] of orders) {
    if (Array.isArray(out[field]))
      out[field] = orderBy(out[field], order, mergeKeyFor(path, field));
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out))
      if (!patch.$retainKeys.includes(k)) delete out[k];
  }
  return out;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export function applyPatch(contentType: string, target: any, patch: any): any {
  const type = contentType.split(';')[0].trim();
  switch (type) {
    case PATCH_TYPES.json:
      return jsonPatch(target, patch);
    case PATCH_TYPES.merge:
      if (!isObject(patch))
        throw errors.badRequest('merge patch must be a JSON object');
      return mergePatch(target, patch);
    case PATCH_TYPES.strategic:
      if (!isObject(patch))
        throw errors.badRequest('strategic merge patch must be a JSON object');
      return strategicMerge(target, patch);
    default:
      throw errors.unsupportedMediaType(type);
  }
}
