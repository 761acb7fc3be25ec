import http from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ObjectStore, StoredObject, ChangeEvent } from '../store/ObjectStore';
import {
  ResourceType,
  findResource,
  groupVersion,
  storageKey,
} from './resources';
import {
  SERVER_VERSION,
  apiGroupDoc,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiV2,
  openApiV3Doc,
  openApiV3Root,
} from './discovery';
import { ApiError, errors } from './status';
import { buildMatcher, selectorToString } from './selectors';
import { PATCH_TYPES, applyPatch, strategicMerge } from './patch';
import { toTable } from './table';
import { metricsItem, metricsList } from './metrics';
import {
  ProtobufDecodeError,
  decodeKubernetesProtobuf,
} from './protobuf/decode';

/**
 * Fault injection settings; they apply to HTTP requests only, never to the control handle.
 * @public
 */
export interface KubeSimFaults {
  /** 0..1: share of requests answered 500 or 503 with a Status body. */
  errorRate: number;
  /** Added before every answer. */
  latencyMs: number;
  /** 0 = never; watch streams are cut after this many milliseconds. */
  dropWatchAfterMs: number;
  /** 0..1: share of writes answered 409 Conflict. */
  conflictRate: number;
}

export const NO_FAULTS: KubeSimFaults = {
  errorRate: 0,
  latencyMs: 0,
  dropWatchAfterMs: 0,
  conflictRate: 0,
};

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ApiServerOptions {
  store: ObjectStore;
  timeScale: number;
  log: (line: string) => void;
  /** Asks the controllers to look at the cluster again (after a write through the API). */
  onWrite: () => void;
  podLogs: (pod: any, container: string | undefined) => string;
}

/**
 * One write request as the server received it, for tests that assert what a client sent.
 * @public
 */
export interface RecordedWrite {
  method: string;
  /** The request path without the query string. */
  path: string;
  contentType: string;
  /** The body, parsed when it is JSON. */
  body: unknown;
  /** The response status, once answered. */
  status?: number;
}

/** How many writes the recorder keeps (the oldest are dropped). */
const RECORDED_WRITES = 1000;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The Kubernetes REST API over `node:http`: discovery, CRUD, watch, patch, subresources and faults. */
export class ApiServer {
  faults: KubeSimFaults = { ...NO_FAULTS };
  counts = new Map<string, number>();
  /**
   * What the watch streams carried, by resource (plural): events and bytes since the last
   * `resetCounts`, and the streams open now. The benchmark's watch load per backend replica.
   */
  readonly watchTraffic = new Map<string, { events: number; bytes: number }>();
  openWatches(): Record<string, number> {
    const open: Record<string, number> = {};
    for (const w of this.watches.values())
      open[w.plural] = (open[w.plural] ?? 0) + 1;
    return open;
  }
  totalRequests = 0;
  /** The last writes (POST, PUT, PATCH, DELETE) with their bodies. */
  readonly writes: RecordedWrite[] = [];
  latencyByType = new Map<string, number[]>();
  /** Open watch streams and when they started, for closing and for `dropWatchAfterMs`. */
  private readonly watches = new Map<
    http.ServerResponse,
    { startedAt: number; plural: string; cut?: NodeJS.Timeout }
  >();
  serverAddress = '127.0.0.1:0';

  constructor(private readonly options: ApiServerOptions) {}

  get store() {
    return this.options.store;
  }

  closeWatches() {
    for (const [res, w] of this.watches) {
      clearTimeout(w.cut);
      res.destroy();
    }
    this.watches.clear();
  }

  /** (Re)arms `dropWatchAfterMs` on open watches too, so a fault set mid-test hits existing streams. */
  applyWatchFaults() {
    for (const [res, w] of this.watches) this.armWatchCut(res, w);
  }

  private armWatchCut(
    res: http.ServerResponse,
    w: { startedAt: number; cut?: NodeJS.Timeout },
  ) {
    clearTimeout(w.cut);
    w.cut = undefined;
    const after = this.faults.dropWatchAfterMs;
    if (after > 0) {
      w.cut = setTimeout(
        () => res.destroy(),
        Math.max(0, w.startedAt + after - Date.now()),
      );
    }
  }

  readonly handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const start = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const route = this.route(url.pathname);
    const method = req.method ?? 'GET';
    const isWatch =
      method === 'GET' &&
      !!route &&
      'type' in route &&
      !route.name &&
      ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    const requestType = this.requestType(method, route, isWatch);
    this.totalRequests++;
    this.counts.set(requestType, (this.counts.get(requestType) ?? 0) + 1);
    if (!isWatch) {
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        let arr = this.latencyByType.get(requestType);
        if (!arr) {
          arr = [];
          this.latencyByType.set(requestType, arr);
        }
        if (arr.length < 100000) arr.push(ms);
      });
    }
    this.serve(req, res, url, route, method, isWatch).catch(err => {
      this.sendError(res, err);
    });
  };

  private record(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    body: string,
  ) {
    let parsed: unknown = body;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      // Kept as text (YAML, or a malformed body the handler will refuse).
    }
    const entry: RecordedWrite = {
      method: req.method ?? '',
      path: url.pathname,
      contentType: String(req.headers['content-type'] ?? ''),
      body: parsed,
    };
    this.writes.push(entry);
    if (this.writes.length > RECORDED_WRITES) this.writes.shift();
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
  }

  private requestType(
    method: string,
    route: Route | { special: string } | undefined,
    isWatch: boolean,
  ): string {
    if (!route) return `${method} other`;
    if ('special' in route) return `${method} ${route.special}`;
    const gv = groupVersion(route.type);
    const res = route.subresource
      ? `${route.type.plural}/${route.subresource}`
      : route.type.plural;
    if (isWatch) return `WATCH ${gv} ${res}`;
    return `${method} ${gv} ${res} ${route.name ? 'object' : 'list'}`;
  }

  /** Resolves a path to a resource route, a discovery document name, or nothing. */
  private route(path: string): Route | { special: string } | undefined {
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0) return { special: 'root' };
    if (['version', 'healthz', 'readyz', 'livez'].includes(parts[0]))
      return { special: parts[0] };
    if (parts[0] === 'openapi')
      return { special: `openapi ${parts.slice(1).join('/')}`.split('?')[0] };
    let gv: string;
    let rest: string[];
    if (parts[0] === 'api') {
      if (parts.length === 1) return { special: 'discovery api' };
      gv = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis') {
      if (parts.length === 1) return { special: 'discovery apis' };
      if (parts.length === 2) return { special: `discovery group ${parts[1]}` };
      gv = `${parts[1]}/${parts[2]}`;
      rest = parts.slice(3);
    } else return undefined;
    if (rest.length === 0) return { special: `discovery ${gv}` };
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = findResource(gv, rest[2]);
      if (t && t.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      } else if (
        !(rest.length === 3 && ['status', 'finalize'].includes(rest[2]))
      ) {
        return undefined;
      }
    }
    const type = findResource(gv, rest[0]);
    if (!type || rest.length > 3) return undefined;
    return { type, namespace, name: rest[1], subresource: rest[2] };
  }

  private async serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    route: Route | { special: string } | undefined,
    method: string,
    isWatch: boolean,
  ) {
    const faults = this.faults;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const isHealth =
      route &&
      'special' in route &&
      ['healthz', 'readyz', 'livez'].includes(route.special);
    if (!isHealth && faults.errorRate > 0 && Math.random() < faults.errorRate) {
      req.resume();
      throw Math.random() < 0.5
        ? errors.internal('kube-sim injected fault')
        : errors.unavailable(
            'kube-sim injected fault: the server is currently unable to handle the request',
          );
    }
    if (!route) throw errors.unknownResource();
    if ('special' in route) {
      req.resume();
      this.serveSpecial(res, url, route.special);
      return;
    }
    const isWrite = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
    const body = isWrite ? await readBody(req) : (req.resume(), '');
    if (isWrite) this.record(req, res, url, body);
    if (
      isWrite &&
      faults.conflictRate > 0 &&
      Math.random() < faults.conflictRate
    ) {
      throw errors.conflict(
        route.type.plural,
        route.type.group,
        route.name ?? '',
      );
    }
    const { type, namespace, name, subresource } = route;
    if (type.computed) {
      this.serveMetrics(res, method, url, route, isWatch);
      return;
    }
    if (subresource && !['status', 'scale', 'log'].includes(subresource))
      throw errors.unknownResource();
    if (subresource === 'scale' && !type.scaleSubresource)
      throw errors.unknownResource();
    if (subresource === 'status' && !type.statusSubresource)
      throw errors.unknownResource();
    if (subresource === 'log' && type.kind !== 'Pod')
      throw errors.unknownResource();
    if (!name) {
      if (type.namespaced === false && namespace)
        throw errors.unknownResource();
      switch (method) {
        case 'GET':
          if (isWatch) {
            this.watch(res, url, type, namespace);
            return;
          }
          this.list(req, res, url, type, namespace);
          return;
        case 'POST':
          this.create(
            res,
            type,
            namespace,
            parseJson(body, req.headers['content-type']),
            url,
          );
          return;
        case 'DELETE':
          this.deleteCollection(res, url, type, namespace);
          return;
        default:
          throw errors.methodNotAllowed(method);
      }
    }
    if (type.namespaced && !namespace) throw errors.unknownResource();
    const ns = namespace ?? '';
    if (subresource === 'scale') {
      this.scale(
        res,
        method,
        type,
        ns,
        name,
        body,
        req.headers['content-type'] ?? '',
      );
      return;
    }
    if (subresource === 'log') {
      const pod = this.mustGet(type, ns, name);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(
        this.options.podLogs(
          pod.obj,
          url.searchParams.get('container') ?? undefined,
        ),
      );
      return;
    }
    switch (method) {
      case 'GET': {
        const stored = this.mustGet(type, ns, name);
        if (wantsTable(req)) {
          this.sendJson(
            res,
            200,
            toTable(
              type.kind,
              [stored.obj],
              { resourceVersion: String(stored.rv) },
              url.searchParams.get('includeObject') ?? 'Metadata',
            ),
          );
          return;
        }
        this.sendRaw(res, 200, stored.json);
        return;
      }
      case 'PUT': {
        const obj = parseJson(body, req.headers['content-type']);
        if (obj?.metadata?.name && obj.metadata.name !== name) {
          throw errors.badRequest(
            `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
          );
        }
        if (
          type.namespaced &&
          obj?.metadata?.namespace &&
          obj.metadata.namespace !== ns
        ) {
          throw errors.badRequest(
            'the namespace of the provided object does not match the namespace sent on the request',
          );
        }
        obj.metadata = {
          ...(obj.metadata ?? {}),
          name,
          ...(type.namespaced ? { namespace: ns } : {}),
        };
        this.checkKind(type, obj);
        const stored = this.store.update(type, obj, {
          subresource: subresource === 'status' ? 'status' : undefined,
          checkResourceVersion: true,
        });
        this.options.onWrite();
        this.sendRaw(res, 200, stored.json);
        return;
      }
      case 'PATCH': {
        const contentType = req.headers['content-type'] ?? '';
        let current = this.store.get(type, ns, name);
        if (contentType.startsWith(PATCH_TYPES.apply)) {
          const applied = parseYamlOrJson(body);
          if (!current) {
            this.checkKind(type, applied);
            applied.metadata = {
              ...(applied.metadata ?? {}),
              name,
              ...(type.namespaced ? { namespace: ns } : {}),
            };
            const created = this.store.create(type, applied);
            this.options.onWrite();
            this.sendRaw(res, 201, created.json);
            return;
          }
          const merged = strategicMerge(current.obj, applied);
          const stored = this.store.update(type, merged, {
            subresource: subresource === 'status' ? 'status' : undefined,
            checkResourceVersion: true,
          });
          this.options.onWrite();
          this.sendRaw(res, 200, stored.json);
          return;
        }
        if (!current) throw errors.notFound(type.plural, type.group, name);
        const patch = parseJson(body, 'application/json');
        const patched = applyPatch(contentType, current.obj, patch);
        if (patched?.metadata?.name !== name)
          throw errors.badRequest('metadata.name cannot be changed by a patch');
        current = this.store.update(type, patched, {
          subresource: subresource === 'status' ? 'status' : undefined,
          checkResourceVersion: true,
        });
        this.options.onWrite();
        this.sendRaw(res, 200, current.json);
        return;
      }
      case 'DELETE':
        this.deleteOne(
          res,
          type,
          ns,
          name,
          body ? parseJson(body, 'application/json') : undefined,
          url,
        );
        return;
      default:
        throw errors.methodNotAllowed(method);
    }
  }

  private serveMetrics(
    res: http.ServerResponse,
    method: string,
    url: URL,
    route: Route,
    isWatch: boolean,
  ) {
    if (method !== 'GET' || isWatch || route.subresource)
      throw errors.methodNotAllowed(isWatch ? 'WATCH' : method);
    if (route.name) {
      const item = metricsItem(
        this.store,
        route.type.plural,
        route.namespace ?? '',
        route.name,
      );
      if (!item)
        throw errors.notFound(route.type.plural, route.type.group, route.name);
      this.sendJson(res, 200, item);
      return;
    }
    const matcher = buildMatcher(
      url.searchParams.get('labelSelector'),
      url.searchParams.get('fieldSelector'),
    );
    this.sendJson(
      res,
      200,
      metricsList(this.store, route.type.plural, route.namespace, matcher),
    );
  }

  private checkKind(type: ResourceType, obj: any) {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw errors.badRequest('the body of the request must be a JSON object');
    }
    if (obj.kind && obj.kind !== type.kind) {
      throw errors.badRequest(
        `the API version in the data (${
          obj.apiVersion
        }) does not match the expected API version (${groupVersion(
          type,
        )}) or kind ${obj.kind} does not match ${type.kind}`,
      );
    }
    if (
      obj.apiVersion &&
      obj.apiVersion !== groupVersion(type) &&
      !(type.group && obj.apiVersion.startsWith(`${type.group}/`))
    ) {
      throw errors.badRequest(
        `the API version in the data (${
          obj.apiVersion
        }) does not match the expected API version (${groupVersion(type)})`,
      );
    }
  }

  private mustGet(type: ResourceType, ns: string, name: string): StoredObject {
    const stored = this.store.get(type, ns, name);
    if (!stored) throw errors.notFound(type.plural, type.group, name);
    return stored;
  }

  /** Discovery and OpenAPI documents never change while the server runs: serialize them once. */
  private readonly documents = new Map<string, string | undefined>();

  private document(key: string, build: () => unknown): string | undefined {
    if (!this.documents.has(key)) {
      const doc = build();
      this.documents.set(
        key,
        doc === undefined ? undefined : JSON.stringify(doc),
      );
    }
    return this.documents.get(key);
  }

  private sendDocument(
    res: http.ServerResponse,
    key: string,
    build: () => unknown,
  ) {
    const json = this.document(key, build);
    if (json === undefined) throw errors.unknownResource();
    this.sendRaw(res, 200, json);
  }

  private serveSpecial(res: http.ServerResponse, url: URL, special: string) {
    if (['healthz', 'readyz', 'livez'].includes(special)) {
      return this.sendText(res, 'ok');
    }
    if (special === 'version') return this.sendJson(res, 200, SERVER_VERSION);
    if (special === 'root') {
      return this.sendJson(res, 200, {
        paths: [
          '/api',
          '/api/v1',
          '/apis',
          '/healthz',
          '/livez',
          '/openapi/v2',
          '/openapi/v3',
          '/readyz',
          '/version',
        ],
      });
    }
    if (special === 'discovery api')
      return this.sendJson(res, 200, apiVersions(this.serverAddress));
    if (special === 'discovery apis')
      return this.sendDocument(res, special, apiGroupList);
    if (special.startsWith('discovery group ')) {
      return this.sendDocument(res, special, () =>
        apiGroupDoc(special.slice('discovery group '.length)),
      );
    }
    if (special.startsWith('discovery ')) {
      return this.sendDocument(res, special, () =>
        apiResourceList(special.slice('discovery '.length)),
      );
    }
    if (special.startsWith('openapi')) {
      const sub = url.pathname.replace(/^\/openapi\/?/, '');
      if (sub === 'v2') {
        const accept = String(res.req?.headers.accept ?? '');
        if (
          accept.includes('protobuf') &&
          !accept.includes('application/json')
        ) {
          throw new ApiError(
            406,
            'NotAcceptable',
            'only application/json is served by kube-sim',
          );
        }
        return this.sendDocument(res, 'openapi v2', openApiV2);
      }
      if (sub === 'v3')
        return this.sendDocument(res, 'openapi v3', openApiV3Root);
      const m = /^v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(sub);
      if (m) {
        const gv = m[1].replace(/^apis?\//, '');
        return this.sendDocument(res, `openapi v3 ${gv}`, () =>
          apiResourceList(gv) ? openApiV3Doc(gv) : undefined,
        );
      }
    }
    throw errors.unknownResource();
  }

  private list(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    type: ResourceType,
    namespace?: string,
  ) {
    const matcher = buildMatcher(
      url.searchParams.get('labelSelector'),
      url.searchParams.get('fieldSelector'),
    );
    let items = this.store.list(type, namespace);
    if (matcher) items = items.filter(s => matcher(s.obj));
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const cont = url.searchParams.get('continue');
    let offset = 0;
    let rv = this.store.resourceVersion;
    if (cont) {
      try {
        const token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8'));
        offset = Number(token.offset) || 0;
        rv = Number(token.rv) || rv;
      } catch {
        throw errors.badRequest('continue key is not valid');
      }
    }
    const listMeta: any = { resourceVersion: String(rv) };
    if (offset) items = items.slice(offset);
    if (limit > 0 && items.length > limit) {
      listMeta.continue = Buffer.from(
        JSON.stringify({ rv, offset: offset + limit }),
      ).toString('base64');
      listMeta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (wantsTable(req)) {
      this.sendJson(
        res,
        200,
        toTable(
          type.kind,
          items.map(i => i.obj),
          listMeta,
          url.searchParams.get('includeObject') ?? 'Metadata',
        ),
      );
      return;
    }
    const head = `{"kind":"${type.listKind}","apiVersion":"${groupVersion(
      type,
    )}","metadata":${JSON.stringify(listMeta)},"items":[`;
    this.sendRaw(res, 200, `${head}${items.map(i => i.json).join(',')}]}`);
  }

  private watch(
    res: http.ServerResponse,
    url: URL,
    type: ResourceType,
    namespace?: string,
  ) {
    const matcher = buildMatcher(
      url.searchParams.get('labelSelector'),
      url.searchParams.get('fieldSelector'),
    );
    const key = storageKey(type);
    const rvParam = url.searchParams.get('resourceVersion') ?? '';
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    const watchState: {
      startedAt: number;
      plural: string;
      cut?: NodeJS.Timeout;
    } = {
      startedAt: Date.now(),
      plural: type.plural,
    };
    this.watches.set(res, watchState);
    // `kubectl get -w` asks for Tables: each event then carries a one-row Table, as kube-apiserver sends.
    const asTable = wantsTable(res.req);
    const includeObject = url.searchParams.get('includeObject') ?? 'Metadata';
    const write = (evType: string, json: string, obj?: any) => {
      const body =
        asTable && obj
          ? JSON.stringify(
              toTable(
                type.kind,
                [obj],
                { resourceVersion: obj.metadata?.resourceVersion },
                includeObject,
              ),
            )
          : json;
      if (!res.writableEnded && !res.destroyed) {
        const line = `{"type":"${evType}","object":${body}}\n`;
        // Looked up on every write: resetCounts clears the map while streams stay open.
        let t = this.watchTraffic.get(type.plural);
        if (!t) {
          t = { events: 0, bytes: 0 };
          this.watchTraffic.set(type.plural, t);
        }
        t.events++;
        t.bytes += Buffer.byteLength(line);
        res.write(line);
      }
    };
    const relay = (e: ChangeEvent) => {
      if (
        namespace !== undefined &&
        type.namespaced &&
        e.namespace !== namespace
      )
        return;
      if (!matcher) {
        write(e.type, e.object.json, e.object.obj);
        return;
      }
      const now = e.type !== 'DELETED' && matcher(e.object.obj);
      const before = e.previous ? matcher(e.previous.obj) : false;
      if (e.type === 'ADDED' && now)
        write('ADDED', e.object.json, e.object.obj);
      else if (e.type === 'MODIFIED') {
        if (now && before) write('MODIFIED', e.object.json, e.object.obj);
        else if (now) write('ADDED', e.object.json, e.object.obj);
        else if (before) write('DELETED', e.object.json, e.object.obj);
      } else if (e.type === 'DELETED' && before)
        write('DELETED', e.object.json, e.object.obj);
    };
    if (rvParam === '' || rvParam === '0') {
      for (const s of this.store.list(type, namespace)) {
        if (!matcher || matcher(s.obj)) write('ADDED', s.json, s.obj);
      }
    } else {
      const rv = Number(rvParam);
      if (!Number.isFinite(rv)) {
        this.watches.delete(res);
        res.end(
          `{"type":"ERROR","object":${JSON.stringify(
            errors
              .badRequest(`invalid resource version: ${rvParam}`)
              .toStatus(),
          )}}\n`,
        );
        return;
      }
      const changes = this.store.changesSince(key, rv);
      if (!changes) {
        const gone = errors.gone(
          `too old resource version: ${rv} (${
            this.store.oldestResourceVersion - 1
          })`,
        );
        this.watches.delete(res);
        res.end(
          `{"type":"ERROR","object":${JSON.stringify(gone.toStatus())}}\n`,
        );
        return;
      }
      for (const c of changes) relay(c);
    }
    const unsubscribe = this.store.subscribe(key, relay);
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      unsubscribe();
      timers.forEach(t => {
        clearTimeout(t);
        clearInterval(t);
      });
      clearTimeout(watchState.cut);
      this.watches.delete(res);
    };
    if (
      ['1', 'true'].includes(url.searchParams.get('allowWatchBookmarks') ?? '')
    ) {
      const every = Math.max(50, Math.round(60000 * this.options.timeScale));
      timers.push(
        setInterval(() => {
          write(
            'BOOKMARK',
            JSON.stringify({
              kind: type.kind,
              apiVersion: groupVersion(type),
              metadata: { resourceVersion: String(this.store.resourceVersion) },
            }),
          );
        }, every),
      );
    }
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) {
      timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    }
    this.armWatchCut(res, watchState);
    res.on('close', finish);
  }

  private create(
    res: http.ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    obj: any,
    url: URL,
  ) {
    this.checkKind(type, obj);
    obj.metadata = obj.metadata ?? {};
    if (type.namespaced) {
      if (
        namespace &&
        obj.metadata.namespace &&
        obj.metadata.namespace !== namespace
      ) {
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      if (!namespace) throw errors.unknownResource();
      obj.metadata.namespace = namespace;
    }
    if (url.searchParams.get('dryRun') === 'All') {
      this.sendJson(res, 201, obj);
      return;
    }
    const stored = this.store.create(type, obj);
    this.options.onWrite();
    this.sendRaw(res, 201, stored.json);
  }

  private deleteOne(
    res: http.ServerResponse,
    type: ResourceType,
    ns: string,
    name: string,
    options: any,
    url: URL,
  ) {
    const current = this.mustGet(type, ns, name);
    const policy =
      options?.propagationPolicy ?? url.searchParams.get('propagationPolicy');
    if (type.kind === 'Namespace') {
      // Namespaces terminate: their content is removed by the namespace controller, then the namespace.
      const obj = structuredClone(current.obj);
      obj.metadata.deletionTimestamp =
        obj.metadata.deletionTimestamp ??
        new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      obj.status = { ...(obj.status ?? {}), phase: 'Terminating' };
      const final = this.store.update(type, obj, { subresource: 'all' });
      this.options.onWrite();
      this.sendRaw(res, 200, final.json);
      return;
    }
    const deleted = this.store.delete(type, ns, name, options?.preconditions);
    if (policy === 'Orphan') this.orphanDependents(deleted.obj.metadata.uid);
    this.options.onWrite();
    this.sendJson(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        group: type.group || undefined,
        kind: type.plural,
        uid: deleted.obj.metadata.uid,
      },
    });
  }

  private orphanDependents(uid: string) {
    for (const t of [
      findResource('apps/v1', 'replicasets')!,
      findResource('v1', 'pods')!,
    ]) {
      for (const s of this.store.list(t)) {
        const refs = s.obj.metadata.ownerReferences ?? [];
        if (refs.some((r: any) => r.uid === uid)) {
          const obj = structuredClone(s.obj);
          obj.metadata.ownerReferences = refs.filter((r: any) => r.uid !== uid);
          this.store.update(t, obj);
        }
      }
    }
  }

  private deleteCollection(
    res: http.ServerResponse,
    url: URL,
    type: ResourceType,
    namespace?: string,
  ) {
    const matcher = buildMatcher(
      url.searchParams.get('labelSelector'),
      url.searchParams.get('fieldSelector'),
    );
    const items = this.store
      .list(type, namespace)
      .filter(s => !matcher || matcher(s.obj));
    const deleted = items.map(s =>
      this.store.delete(
        type,
        s.obj.metadata.namespace ?? '',
        s.obj.metadata.name,
      ),
    );
    this.options.onWrite();
    const head = `{"kind":"${type.listKind}","apiVersion":"${groupVersion(
      type,
    )}","metadata":{"resourceVersion":"${
      this.store.resourceVersion
    }"},"items":[`;
    this.sendRaw(res, 200, `${head}${deleted.map(d => d.json).join(',')}]}`);
  }

  private scaleOf(obj: any) {
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: obj.spec?.replicas ?? 1 },
      status: {
        replicas: obj.status?.replicas ?? 0,
        selector: selectorToString(obj.spec?.selector),
      },
    };
  }

  private scale(
    res: http.ServerResponse,
    method: string,
    type: ResourceType,
    ns: string,
    name: string,
    body: string,
    contentType: string,
  ) {
    const current = this.mustGet(type, ns, name);
    const scale = this.scaleOf(current.obj);
    if (method === 'GET') {
      this.sendJson(res, 200, scale);
      return;
    }
    let next: any;
    if (method === 'PUT') next = parseJson(body, contentType);
    else if (method === 'PATCH')
      next = applyPatch(
        contentType,
        scale,
        parseJson(body, 'application/json'),
      );
    else throw errors.methodNotAllowed(method);
    const replicas = next?.spec?.replicas;
    if (
      typeof replicas !== 'number' ||
      !Number.isInteger(replicas) ||
      replicas < 0
    ) {
      throw errors.invalid('Scale', 'autoscaling', name, [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(
            replicas,
          )}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    }
    const rv = next?.metadata?.resourceVersion;
    if (rv && rv !== current.obj.metadata.resourceVersion)
      throw errors.conflict(type.plural, type.group, name);
    const obj = structuredClone(current.obj);
    obj.spec = { ...(obj.spec ?? {}), replicas };
    const stored = this.store.update(type, obj);
    this.options.onWrite();
    this.sendJson(res, 200, this.scaleOf(stored.obj));
  }

  private sendText(res: http.ServerResponse, text: string) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(text);
  }

  sendJson(res: http.ServerResponse, code: number, body: unknown) {
    this.sendRaw(res, code, JSON.stringify(body));
  }

  private sendRaw(res: http.ServerResponse, code: number, json: string) {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      'Cache-Control': 'no-cache, private',
    });
    res.end(json);
  }

  private sendError(res: http.ServerResponse, err: unknown) {
    const apiError =
      err instanceof ApiError
        ? err
        : errors.internal(err instanceof Error ? err.message : String(err));
    if (!(err instanceof ApiError))
      this.options.log(
        `kube-sim: internal error: ${(err as Error)?.stack ?? err}`,
      );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (apiError.code === 503) headers['Retry-After'] = '1';
    res.writeHead(apiError.code, {
      'Content-Type': 'application/json',
      ...headers,
    });
    res.end(JSON.stringify(apiError.toStatus()));
  }
}

function wantsTable(req: http.IncomingMessage): boolean {
  const accept = String(req.headers.accept ?? '');
  return (
    accept.includes('as=Table') && accept.split(',')[0].includes('as=Table')
  );
}

/**
 * A request body as text: JSON or YAML as sent, a protobuf body (what client-go's generated
 * clients send for built-in kinds) decoded into JSON first.
 */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!String(req.headers['content-type'] ?? '').includes('protobuf')) {
        resolve(body.toString('utf8'));
        return;
      }
      try {
        resolve(JSON.stringify(decodeKubernetesProtobuf(body)));
      } catch (e) {
        reject(
          e instanceof ProtobufDecodeError
            ? new ApiError(
                415,
                'UnsupportedMediaType',
                `the body of the request was in an unknown format - ${e.message}`,
              )
            : errors.badRequest(
                `error decoding protobuf: ${(e as Error).message}`,
              ),
        );
      }
    });
    req.on('error', reject);
  });
}

function parseJson(body: string, contentType: string | undefined): any {
  // Protobuf bodies arrive here already decoded into JSON (readBody).
  const type = String(contentType ?? '');
  try {
    if (type.includes('yaml')) return parseYaml(body);
    return JSON.parse(body);
  } catch (e) {
    throw errors.badRequest(
      `the object provided is unrecognized: couldn't get version/kind; json parse error: ${
        (e as Error).message
      }`,
    );
  }
}

function parseYamlOrJson(body: string): any {
  try {
    return parseYaml(body);
  } catch (e) {
    throw errors.badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
}
