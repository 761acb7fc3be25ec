// Test-only module (imported by *.router.test.ts, never by the plugin's entry point, so never in
// dist): its test-utils and supertest imports are devDependencies, which the rule only expects of
// files named *.test.*.
/* eslint-disable @backstage/no-undeclared-imports */
import { mockServices } from '@backstage/backend-test-utils';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { notificationService } from '@backstage/plugin-notifications-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import type {
  ApprovalView,
  PipelineView,
  RolloutHistoryEvent,
  RolloutView,
} from '@rust-delivery-portal/plugin-rollouts-common';
import request from 'supertest';

/**
 * What the REST API suites (router, Argo Rollouts, gates, pipelines) build around the rollouts
 * router: catalog Components, a permission policy, a recording auditor, the Kubernetes config of
 * the test clusters, the signals and notifications services, and the HTTP calls they make.
 * Each suite keeps its own clusters, manifests and assertions.
 */

/** The owner of every test Component (through group:default/team-a), who may act. */
export const OWNER = 'user:default/owner';
/** Signed in, not an owner: reads only. */
export const STRANGER = 'user:default/stranger';

/** A Component owned by team-a, mapped to its workloads of the same name in `kubernetesNamespace`. */
export function component(
  name: string,
  options: {
    kubernetesNamespace?: string;
    annotations?: Record<string, string>;
  } = {},
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: {
        'backstage.io/kubernetes-id': name,
        'backstage.io/kubernetes-namespace':
          options.kubernetesNamespace ?? 'shop',
        ...options.annotations,
      },
    },
    spec: {
      type: 'service',
      owner: 'group:default/team-a',
      lifecycle: 'production',
    },
  };
}

/** One audit event as the router reported it: created, then its outcome and the meta it added. */
export interface AuditRecord {
  eventId: string;
  outcome?: 'success' | 'fail';
  meta?: any;
}

/** The auditor service, recording every event in `events` in the order they were created. */
export function recordingAuditor() {
  const events: AuditRecord[] = [];
  const auditor = mockServices.auditor.mock({
    createEvent: async (opts: { eventId: string; meta?: unknown }) => {
      const entry: AuditRecord = { eventId: opts.eventId, meta: opts.meta };
      events.push(entry);
      // The target (namespace, workload) is known once located: the outcome carries it.
      const settle =
        (outcome: AuditRecord['outcome']) => async (o?: { meta?: object }) => {
          entry.outcome = outcome;
          if (o?.meta) entry.meta = { ...entry.meta, ...o.meta };
        };
      return { success: settle('success'), fail: settle('fail') };
    },
  } as any);
  return { events, auditor };
}

/** The caller as the permission service sees it. */
export interface TestPrincipal {
  type: string;
  userEntityRef?: string;
}

/**
 * The permission service deciding every request by `allow` (for views, which ask
 * authorizeConditional, as for actions, which ask authorize).
 */
export function permissionPolicy(
  allow: (
    permission: { name: string; attributes: { action?: string } },
    principal: TestPrincipal,
  ) => boolean,
) {
  const decide = async (requests: any[], opts: any) =>
    requests.map(r => ({
      result: allow(r.permission, opts.credentials.principal)
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY,
    }));
  return mockServices.permissions.mock({
    authorize: decide,
    authorizeConditional: decide,
  } as any);
}

/** Everyone reads; only `actors` (and services, if `services`) act. */
export function readOrActors(
  actors: string[],
  options: { services?: boolean } = {},
) {
  return permissionPolicy(
    (permission, principal) =>
      permission.attributes.action === 'read' ||
      (principal.userEntityRef !== undefined &&
        actors.includes(principal.userEntityRef)) ||
      (options.services === true && principal.type === 'service'),
  );
}

/** The `kubernetes` config of the test clusters, reached with a service-account token. */
export function kubernetesConfig(
  clusters: Array<{ name: string; url: string; token?: string }>,
) {
  return {
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: clusters.map(c => ({
          name: c.name,
          url: c.url,
          authProvider: 'serviceAccount',
          serviceAccountToken: c.token ?? 'test-token',
          skipTLSVerify: true,
        })),
      },
    ],
  };
}

/** Debug logs with ROLLOUTS_TEST_LOG set, none otherwise. */
export function testRootLogger() {
  return mockServices.rootLogger.factory({
    level: process.env.ROLLOUTS_TEST_LOG ? 'debug' : 'none',
  });
}

/** The signals and notifications services, their sends recorded by jest. */
export function recordingMessaging() {
  const signals = { publish: jest.fn(async (_: any) => {}) };
  const notifications = { send: jest.fn(async (_: any) => {}) };
  return {
    signals,
    notifications,
    factories: [
      createServiceFactory({
        service: signalsServiceRef,
        deps: {},
        factory: () => signals as any,
      }),
      createServiceFactory({
        service: notificationService,
        deps: {},
        factory: () => notifications as any,
      }),
    ],
  };
}

/**
 * The calls the suites make to the rollouts API, each with an Authorization header
 * (`mockCredentials.*.header()`). `prefix` is `/api/rollouts` on a test backend and empty on a
 * bare router.
 */
export function rolloutsRequests(
  app: any,
  options: { prefix?: string; defaultAuth: string },
) {
  const prefix = options.prefix ?? '/api/rollouts';
  const entity = (name: string) =>
    `${prefix}/entities/component/default/${name}`;
  const auth = options.defaultAuth;
  const history = (name: string, as = auth) =>
    request(app)
      .get(`${entity(name)}/history`)
      .set('Authorization', as);
  return {
    async views(name: string, as = auth): Promise<RolloutView[]> {
      const res = await request(app)
        .get(`${entity(name)}/rollouts`)
        .set('Authorization', as);
      expect(res.status).toBe(200);
      return res.body.items;
    },
    action: (name: string, act: string, body: object, as = auth) =>
      request(app)
        .post(`${entity(name)}/actions/${act}`)
        .set('Authorization', as)
        .send(body),
    startRollout: (name: string, body: object, as = auth) =>
      request(app)
        .post(`${entity(name)}/rollouts`)
        .set('Authorization', as)
        .send(body),
    history,
    /** The history, checked to be a 200. */
    async historyItems(
      name: string,
      as = auth,
    ): Promise<RolloutHistoryEvent[]> {
      const res = await history(name, as);
      expect(res.status).toBe(200);
      return res.body.items;
    },
    async pipeline(name: string, as = auth): Promise<PipelineView> {
      const res = await request(app)
        .get(`${entity(name)}/pipeline`)
        .set('Authorization', as);
      expect(res.status).toBe(200);
      return res.body;
    },
    promote: (name: string, body: object, as = auth) =>
      request(app)
        .post(`${entity(name)}/pipeline/promote`)
        .set('Authorization', as)
        .send(body),
    decide: (id: string, decision: string, body: object, as = auth) =>
      request(app)
        .post(`${prefix}/approvals/${id}/${decision}`)
        .set('Authorization', as)
        .send(body),
    async approvals(name: string, as = auth): Promise<ApprovalView[]> {
      const res = await request(app)
        .get(`${prefix}/approvals?entityRef=component:default/${name}`)
        .set('Authorization', as);
      expect(res.status).toBe(200);
      return res.body.items;
    },
  };
}

/**
 * Looks until `predicate` holds, running `step` (a reconcile pass, say) before each look, and
 * fails naming `what` and the last value seen.
 */
export async function pollUntil<T>(options: {
  look: () => Promise<T>;
  predicate: (value: T) => boolean;
  what: string;
  step?: () => Promise<unknown>;
  timeoutMs?: number;
  intervalMs?: number;
}): Promise<T> {
  const { look, predicate, what, step } = options;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: T | undefined;
  while (Date.now() < deadline) {
    await step?.();
    last = await look();
    if (last !== undefined && predicate(last)) return last;
    await new Promise(r => setTimeout(r, options.intervalMs ?? 100));
  }
  throw new Error(
    `Timed out waiting for ${what}; last: ${JSON.stringify(last, null, 2)}`,
  );
}
