import { createHash } from 'node:crypto';
import {
  RESOURCE_TYPES,
  ResourceType,
  groupVersion,
  groupVersions,
} from './resources';

/** Legacy discovery documents and a minimal OpenAPI v3, generated from the resource table. */

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kube-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function resourceEntries(t: ResourceType) {
  const entries: any[] = [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
      storageVersionHash: createHash('sha256')
        .update(`${groupVersion(t)}/${t.kind}`)
        .digest('base64')
        .slice(0, 11),
    },
  ];
  if (t.statusSubresource) {
    entries.push({
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  if (t.scaleSubresource) {
    entries.push({
      name: `${t.plural}/scale`,
      singularName: '',
      namespaced: t.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
  }
  return entries;
}

export function apiResourceList(gv: string) {
  const types = RESOURCE_TYPES.filter(t => groupVersion(t) === gv);
  if (!types.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: types.flatMap(resourceEntries),
  };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string, versions: string[]) {
  const gvs = versions.map(v => ({
    groupVersion: `${group}/${v}`,
    version: v,
  }));
  return { name: group, versions: gvs, preferredVersion: gvs[0] };
}

export function apiGroupList() {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions().map(g => apiGroup(g.group, g.versions)),
  };
}

export function apiGroupDoc(group: string) {
  const g = groupVersions().find(x => x.group === group);
  if (!g) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    ...apiGroup(g.group, g.versions),
  };
}

/**
 * OpenAPI v3: per group-version documents with one path per resource and the PATCH operation's
 * `fieldValidation` parameter, which tells kubectl that the server validates fields itself (so
 * `kubectl apply` needs no client-side schema). No request body schemas are published, so kubectl
 * computes strategic merge patches from its built-in types, as it does for any built-in kind.
 */
function openApiPathsFor(gv: string) {
  const paths: Record<string, any> = {};
  const params = [
    'dryRun',
    'fieldManager',
    'fieldValidation',
    'force',
    'pretty',
  ].map(name => ({
    name,
    in: 'query',
    schema: {
      type: name === 'force' ? 'boolean' : 'string',
      uniqueItems: true,
    },
  }));
  for (const t of RESOURCE_TYPES.filter(x => groupVersion(x) === gv)) {
    const prefix = `/${t.group ? 'apis' : 'api'}/${gv}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const item = t.namespaced
      ? `${prefix}/namespaces/{namespace}/${t.plural}/{name}`
      : `${prefix}/${t.plural}/{name}`;
    const op = (verb: string, action: string) => ({
      operationId: `${verb}${t.kind}`,
      tags: [gv],
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      responses: { '200': { description: 'OK' } },
    });
    paths[item] = {
      get: op('read', 'get'),
      put: { ...op('replace', 'put'), parameters: params },
      patch: { ...op('patch', 'patch'), parameters: params },
      delete: op('delete', 'delete'),
    };
    paths[
      t.namespaced
        ? `${prefix}/namespaces/{namespace}/${t.plural}`
        : `${prefix}/${t.plural}`
    ] = {
      get: op('list', 'list'),
      post: { ...op('create', 'post'), parameters: params },
    };
  }
  return paths;
}

export function openApiV3Doc(gv: string) {
  return {
    openapi: '3.0.0',
    info: {
      title: 'Kubernetes (kube-sim)',
      version: SERVER_VERSION.gitVersion,
    },
    paths: openApiPathsFor(gv),
    components: { schemas: {} },
  };
}

export function openApiV3Root() {
  const paths: Record<string, any> = {};
  const gvs = new Set(RESOURCE_TYPES.map(groupVersion));
  for (const gv of gvs) {
    const key = gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
    const hash = createHash('sha512')
      .update(JSON.stringify(openApiV3Doc(gv)))
      .digest('hex')
      .toUpperCase()
      .slice(0, 64);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

export function openApiV2() {
  const paths: Record<string, any> = {};
  for (const gv of new Set(RESOURCE_TYPES.map(groupVersion)))
    Object.assign(paths, openApiPathsFor(gv));
  return {
    swagger: '2.0',
    info: {
      title: 'Kubernetes (kube-sim)',
      version: SERVER_VERSION.gitVersion,
    },
    paths,
    definitions: {},
  };
}
