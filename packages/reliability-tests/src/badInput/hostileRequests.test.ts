import { startKubeSim, KubeSim } from '@rust-delivery-portal/kube-sim';
import { ROLLOUT_ACTIONS } from '@rust-delivery-portal/plugin-rollouts-common';
import fc from 'fast-check';
import request from 'supertest';
import { authHeader } from '../harness/portal';
import { serviceEntity, userEntity } from '../harness/catalogEntities';
import { Portal, startPortal } from '../harness/portal';
import {
  NS,
  canaryWorkload,
  namespaceObject,
  rollingWorkload,
} from '../harness/workloads';

jest.setTimeout(240_000);

/**
 * Property-based hostile input: for each rollouts endpoint, at least RUNS generated requests that
 * are each wrong in at least one way (wrong types, huge bodies, unknown actions, path traversal in
 * names, unknown clusters and workloads, bad JSON). Every answer must be a 4xx carrying Backstage's
 * error JSON with a message; none may be a 5xx; and the cluster must not change at all.
 */
const RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 1000);
/** Requests per property run, sent concurrently (the backend serves them in parallel anyway). */
const BATCH = 8;
const SEED = 20261126;
const OWNER = { type: 'user', ref: 'user:default/alice' } as const;
const VALID = { kind: 'component', namespace: 'default', name: 'fuzz' };

// ---- generators -------------------------------------------------------------------------------

const traversal = fc.constantFrom(
  '..',
  '../..',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%2e%2e%2f',
  '..\\..\\windows',
  '.%00.',
  '%00',
  '%252e%252e%252f',
  '....//',
  '/etc/passwd',
  'a/../../b',
  '%c0%ae%c0%ae',
  '~',
  '.',
);
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\n',
    '\u0000',
    '${{ secrets.TOKEN }}',
    "' OR 1=1 --",
    '<script>',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    'SIM',
    'sim ',
    'sim\n',
  ),
  traversal,
  fc.string({ minLength: 254, maxLength: 600 }),
);
/** Traversal written as a single, already-encoded path segment (the router sees it decoded). */
const encodedTraversal = fc.constantFrom(
  '%2e%2e',
  '%2E%2E',
  '%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f',
  '%2E%2E%2F%2E%2E',
  '..%5C..%5Cwindows',
  '%252e%252e%252f',
  '.%00.',
  '%00',
  '%c0%ae%c0%ae',
  '%2Fetc%2Fpasswd',
  'a%2F..%2F..%2Fb',
  '....%2F%2F',
);
/** A path segment that is surely not a known entity part; always one segment of the URL. */
const hostileSegment = fc.oneof(
  encodedTraversal,
  weirdString
    .filter(
      s =>
        !['component', 'default', 'fuzz'].includes(
          s.toLocaleLowerCase('en-US'),
        ),
    )
    .map(s => encodeURIComponent(s))
    // A literal `.`/`..` segment is resolved by the HTTP client before it is sent.
    .filter(s => s.length > 0 && s !== '.' && s !== '..'),
);

/** Entity path params with at least one hostile part (unknown entity, traversal, junk). */
const badEntityPath = fc
  .record({
    kind: fc.option(hostileSegment, { nil: undefined }),
    namespace: fc.option(hostileSegment, { nil: undefined }),
    name: fc.option(hostileSegment, { nil: undefined }),
  })
  .filter(
    p =>
      p.kind !== undefined || p.namespace !== undefined || p.name !== undefined,
  )
  .map(p => ({
    kind: p.kind ?? VALID.kind,
    namespace: p.namespace ?? VALID.namespace,
    name: p.name ?? VALID.name,
  }));
const entityPath = (p: { kind: string; namespace: string; name: string }) =>
  `/api/rollouts/entities/${p.kind}/${p.namespace}/${p.name}`;
const validPath = entityPath(VALID);

const k8sName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const unknownCluster = k8sName.filter(n => n !== 'sim');
const unknownWorkload = k8sName.filter(n => n !== 'fuzz');
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

/** A JSON body that the schema must refuse, or that names a cluster/workload that does not exist. */
function badBody(kind: 'start' | 'action') {
  const base =
    kind === 'start'
      ? { cluster: 'sim', image: 'registry.test/fuzz:2.0.0' }
      : { cluster: 'sim' };
  return fc.oneof(
    // not an object at all
    fc
      .oneof(
        fc.string(),
        fc.integer(),
        fc.constant(null),
        fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
      )
      .map(b => ({ json: b })),
    // anything at all (fast-check objects) -- missing cluster, wrong keys
    fc
      .object({ maxDepth: 2 })
      .filter(o => !('cluster' in o))
      .map(b => ({ json: b })),
    // wrong types for each field
    fc
      .record({
        field: fc.constantFrom(
          'cluster',
          'workload',
          'reason',
          'revision',
          'stepIndex',
          'toRevision',
          ...(kind === 'start' ? ['image'] : []),
        ),
        value: wrongType,
      })
      .filter(
        ({ field, value }) =>
          !(
            ['revision', 'stepIndex'].includes(field) &&
            Number.isInteger(value) &&
            (value as number) >= 0
          ) &&
          !(
            field === 'toRevision' &&
            Number.isInteger(value) &&
            (value as number) >= 1
          ),
      )
      .map(({ field, value }) => ({ json: { ...base, [field]: value } })),
    // hostile names: traversal and junk in cluster / workload
    fc
      .record({
        field: fc.constantFrom('cluster', 'workload'),
        value: weirdString,
      })
      .map(({ field, value }) => ({ json: { ...base, [field]: value } })),
    // unknown cluster, unknown workload (well-formed names)
    unknownCluster.map(c => ({ json: { ...base, cluster: c } })),
    unknownWorkload.map(w => ({ json: { ...base, workload: w } })),
    // extra keys (the schema is strict), prototype pollution attempts
    fc
      .constantFrom('__proto__', 'constructor', 'prototype', 'admin', 'force')
      .map(k => ({
        raw: `{"cluster":"sim","image":"registry.test/fuzz:2.0.0","${k}":{"isAdmin":true}}`,
      })),
    // huge values and bodies
    fc
      .integer({ min: 1001, max: 5000 })
      .map(n => ({ json: { ...base, reason: 'r'.repeat(n) } })),
    fc
      .integer({ min: 150_000, max: 400_000 })
      .map(n => ({ json: { ...base, reason: 'x'.repeat(n) } })),
    // out-of-range numbers
    fc
      .oneof(
        fc.integer({ max: -1 }),
        fc.double({ noInteger: true }),
        fc.constant(Number.MAX_SAFE_INTEGER + 2),
      )
      .map(n => ({ json: { ...base, stepIndex: n } })),
    // bad JSON text
    fc
      .oneof(
        fc.constantFrom(
          '{',
          '{"cluster":',
          '{"cluster":"sim",}',
          "{'cluster':'sim'}",
          'NaN',
          '{"cluster":"sim"}}',
          '\u0000',
        ),
        fc.string({ minLength: 1 }).map(s => `{${s}`),
      )
      .map(raw => ({ raw })),
    ...(kind === 'start'
      ? [
          // images that are not image references
          weirdString
            .filter(
              s =>
                !/^[a-z0-9]+([._\-/:][a-z0-9]+)*(:[\w][\w.-]{0,127})?$/i.test(
                  s,
                ),
            )
            .map(img => ({ json: { cluster: 'sim', image: img } })),
          fc.constant({ json: { cluster: 'sim' } }),
        ]
      : []),
  );
}

type Body = { json?: unknown; raw?: string };
const actionName = fc.constantFrom(...ROLLOUT_ACTIONS);
const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const unknownAction = fc
  .oneof(
    encodedTraversal,
    weirdString.map(s => encodeURIComponent(s)),
  )
  .filter(
    s =>
      s.length > 0 &&
      s !== '.' &&
      s !== '..' &&
      !(ROLLOUT_ACTIONS as readonly string[]).includes(safeDecode(s)),
  );

// ---- the suite --------------------------------------------------------------------------------

describe(`hostile input: ${RUNS} generated requests per rollouts endpoint`, () => {
  let sim: KubeSim;
  let portal: Portal;
  const figures: Record<
    string,
    { requests: number; byStatus: Record<string, number> }
  > = {};

  function snapshot() {
    const pick = (o: any) => ({
      name: o.metadata.name,
      rv: o.metadata.resourceVersion,
      spec: o.spec,
      annotations: o.metadata.annotations,
    });
    return {
      deployments: sim.control.list('apps/v1', 'Deployment', NS).map(pick),
      replicaSets: sim.control.list('apps/v1', 'ReplicaSet', NS).map(pick),
      services: sim.control.list('v1', 'Service', NS).map(pick),
      pods: sim.control
        .list('v1', 'Pod', NS)
        .map(p => p.metadata.name)
        .sort(),
    };
  }
  let before: ReturnType<typeof snapshot>;

  beforeAll(async () => {
    sim = await startKubeSim({ timeScale: 0.1 });
    await sim.control.apply([
      namespaceObject,
      ...canaryWorkload('fuzz', 'registry.test/fuzz:1.0.0'),
      ...rollingWorkload('other', 'registry.test/other:1.0.0'),
    ]);
    await sim.control.waitFor(
      () =>
        sim.control
          .list('v1', 'Pod', NS)
          .filter(p =>
            p.status?.conditions?.some(
              (c: any) => c.type === 'Ready' && c.status === 'True',
            ),
          ).length === 6,
      20_000,
    );
    portal = await startPortal({
      kubeUrl: sim.url,
      entities: [
        serviceEntity('fuzz', 'user:default/alice', NS),
        userEntity('alice'),
      ],
    });
    await portal.waitForCatalog(['component:default/fuzz']);
    before = snapshot();
  });

  afterAll(async () => {
    console.log(
      `[reliability] hostile input: ${JSON.stringify({
        seed: SEED,
        runsPerEndpoint: RUNS,
        endpoints: figures,
      })}`,
    );
    await portal?.stop();
    await sim?.close();
  });

  /** Sends one request and checks the answer is a 4xx with Backstage's error JSON. */
  async function check(endpoint: string, req: request.Test) {
    const res = await req;
    (req as any).url = (req as any).url ?? '';
    const f = (figures[endpoint] ??= { requests: 0, byStatus: {} });
    f.requests++;
    f.byStatus[res.status] = (f.byStatus[res.status] ?? 0) + 1;
    const ok =
      res.status >= 400 &&
      res.status < 500 &&
      typeof res.body?.error?.name === 'string' &&
      typeof res.body?.error?.message === 'string' &&
      res.body.error.message.length > 0;
    if (!ok) {
      throw new Error(
        `${endpoint} ${req.url}: ${res.status} ${JSON.stringify(res.body).slice(
          0,
          400,
        )}`,
      );
    }
  }

  const send = (method: 'get' | 'post', url: string, body?: Body) => {
    const r = request(portal.url)[method](url).set(authHeader(OWNER));
    if (!body) return r;
    if (body.raw !== undefined)
      return r.set('content-type', 'application/json').send(body.raw);
    return r
      .set('content-type', 'application/json')
      .send(JSON.stringify(body.json));
  };
  const params = {
    numRuns: Math.ceil(RUNS / BATCH),
    seed: SEED,
    endOnFailure: true,
  };
  /** A property over BATCH generated requests at once, all checked. */
  const batch = <T>(arb: fc.Arbitrary<T>, run: (value: T) => Promise<void>) =>
    fc.asyncProperty(
      fc.array(arb, { minLength: BATCH, maxLength: BATCH }),
      async values => {
        await Promise.all(values.map(run));
      },
    );

  it('GET /entities/:kind/:namespace/:name/rollouts', async () => {
    await fc.assert(
      batch(badEntityPath, async p =>
        check('GET rollouts', send('get', `${entityPath(p)}/rollouts`)),
      ),
      params,
    );
    expect(figures['GET rollouts'].requests).toBeGreaterThanOrEqual(RUNS);
  });

  it('GET /entities/:kind/:namespace/:name/history', async () => {
    const badQuery = fc.oneof(
      fc.constantFrom(
        'limit=',
        'limit=0',
        'limit=-1',
        'limit=abc',
        'limit=1.5',
        'limit=1001',
        'limit=1e9',
        'limit=Infinity',
        'limit[]=0',
        'cluster[]=a&cluster[]=b',
        'workload[x]=y',
        'limit=NaN',
      ),
      fc.integer({ min: 1001 }).map(n => `limit=${n}`),
      fc.integer({ max: 0 }).map(n => `limit=${n}`),
      fc
        .string({ minLength: 1, maxLength: 10 })
        .filter(s => Number.isNaN(Number(s)) && s.trim() !== '')
        .map(s => `limit=${encodeURIComponent(s)}`),
    );
    await fc.assert(
      batch(
        fc.oneof(
          badEntityPath.map(p => `${entityPath(p)}/history`),
          badQuery.map(q => `${validPath}/history?${q}`),
        ),
        async url => check('GET history', send('get', url)),
      ),
      params,
    );
    expect(figures['GET history'].requests).toBeGreaterThanOrEqual(RUNS);
  });

  it('POST /entities/:kind/:namespace/:name/rollouts', async () => {
    await fc.assert(
      batch(
        fc.oneof(
          fc.record({
            url: fc.constant(`${validPath}/rollouts`),
            body: badBody('start'),
          }),
          fc.record({
            url: badEntityPath.map(p => `${entityPath(p)}/rollouts`),
            body: fc.constant<Body>({
              json: { cluster: 'sim', image: 'registry.test/fuzz:2.0.0' },
            }),
          }),
          fc.record({
            url: badEntityPath.map(p => `${entityPath(p)}/rollouts`),
            body: badBody('start'),
          }),
        ),
        async ({ url, body }) =>
          check('POST rollouts', send('post', url, body as Body)),
      ),
      params,
    );
    expect(figures['POST rollouts'].requests).toBeGreaterThanOrEqual(RUNS);
  });

  it('POST /entities/:kind/:namespace/:name/actions/:action', async () => {
    await fc.assert(
      batch(
        fc.oneof(
          fc.record({
            url: actionName.map(a => `${validPath}/actions/${a}`),
            body: badBody('action'),
          }),
          fc.record({
            url: unknownAction.map(a => `${validPath}/actions/${a}`),
            body: fc.constant<Body>({ json: { cluster: 'sim' } }),
          }),
          fc.record({
            url: fc
              .tuple(badEntityPath, actionName)
              .map(([p, a]) => `${entityPath(p)}/actions/${a}`),
            body: fc.constant<Body>({ json: { cluster: 'sim' } }),
          }),
          fc.record({
            url: fc
              .tuple(badEntityPath, unknownAction)
              .map(([p, a]) => `${entityPath(p)}/actions/${a}`),
            body: badBody('action'),
          }),
        ),
        async ({ url, body }) =>
          check('POST actions', send('post', url, body as Body)),
      ),
      params,
    );
    expect(figures['POST actions'].requests).toBeGreaterThanOrEqual(RUNS);
  });

  it('left the cluster exactly as it was', async () => {
    expect(Object.values(figures).every(f => f.requests >= RUNS)).toBe(true);
    expect(snapshot()).toEqual(before);
  });
});
