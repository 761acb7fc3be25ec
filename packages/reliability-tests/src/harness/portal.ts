import {
  coreServices,
  createServiceFactory,
  DatabaseService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { Entity } from '@backstage/catalog-model';
import knexFactory, { Knex } from 'knex';
import request from 'supertest';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
// These suites install the real plugins into test backends, as packages/backend does.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import rolloutsPlugin from '@rust-delivery-portal/plugin-rollouts-backend';
// The portal's permission policy lives in the backend package, which exports nothing; testing
// that very policy (not a copy of it) is the point of the authorization matrix.
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import rolloutsPolicyModule from 'backend/src/permissions/policyModule';
import { createAuditCapture } from './auditCapture';
import { catalogEntitiesModule } from './catalogEntities';
import { onBehalfOfAuthFactory } from './onBehalfOfAuth';

/** Who is calling: the four principals of the authorization matrix. */
export type Caller =
  | { type: 'user'; ref: string }
  | { type: 'service'; subject?: string }
  | { type: 'anonymous' };

export function authHeader(caller: Caller): Record<string, string> {
  switch (caller.type) {
    case 'user':
      return { authorization: mockCredentials.user.header(caller.ref) };
    case 'service':
      return { authorization: mockCredentials.service.header() };
    default:
      return {};
  }
}

export interface PortalOptions {
  /** The cluster's URL (kube-sim, or a proxy in front of a real API server); it is called `sim`. */
  kubeUrl: string;
  /** The token the portal sends to the cluster; kube-sim takes any. */
  kubeToken?: string;
  entities: Entity[];
  /**
   * The rollouts plugin's database (and so its scheduler's). Give the same Knex to two portals to
   * make them replicas of one deployment, or to a restarted portal. Default: in-memory SQLite.
   */
  rolloutsDatabase?: Knex;
  /** How often the engine's reconcile task runs. */
  reconcileMs?: number;
}

export type Portal = Awaited<ReturnType<typeof startPortal>>;

/**
 * A Backstage backend as the portal runs it, minus the frontend: the real catalog, the real
 * permission backend with the portal's own policy module (packages/backend), the rollouts plugin,
 * the real scheduler (global tasks coordinated through the database), and an auditor that keeps
 * every event. Callers that send no token are anonymous (not the mock default user).
 */
export async function startPortal(options: PortalOptions) {
  const audit = createAuditCapture();
  const ownedKnexes: Knex[] = [];
  const databaseFactory = createServiceFactory({
    service: coreServices.database,
    deps: { pluginMetadata: coreServices.pluginMetadata },
    async factory({ pluginMetadata }): Promise<DatabaseService> {
      if (pluginMetadata.getId() === 'rollouts' && options.rolloutsDatabase) {
        const shared = options.rolloutsDatabase;
        return { getClient: async () => shared };
      }
      const knex = knexFactory({
        client: 'better-sqlite3',
        connection: ':memory:',
        useNullAsDefault: true,
      });
      ownedKnexes.push(knex);
      return { getClient: async () => knex };
    },
  });
  const backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:0' },
          permission: { enabled: true },
          catalog: { processingInterval: { seconds: 1 } },
          kubernetes: {
            clusterLocatorMethods: [
              {
                type: 'config',
                clusters: [
                  {
                    name: 'sim',
                    url: options.kubeUrl,
                    authProvider: 'serviceAccount',
                    serviceAccountToken: options.kubeToken ?? 'kube-sim-token',
                    skipTLSVerify: true,
                  },
                ],
              },
            ],
          },
          rollouts: {
            reconcileInterval: { milliseconds: options.reconcileMs ?? 500 },
          },
        },
      }),
      httpAuthServiceFactory,
      mockServices.rootLogger.factory({
        level: (process.env.RELIABILITY_LOG as any) ?? 'none',
      }),
      onBehalfOfAuthFactory,
      schedulerServiceFactory,
      databaseFactory,
      audit.factory,
      catalogPlugin,
      catalogEntitiesModule(options.entities),
      permissionPlugin,
      rolloutsPolicyModule,
      rolloutsPlugin,
    ],
  });
  const server = backend.server;
  const url = `http://localhost:${server.port()}`;
  const api = `/api/rollouts`;
  let stopped = false;

  return {
    url,
    audit: audit.events,
    /** supertest agent on the whole backend */
    http: () => request(url),
    get(path: string, caller: Caller) {
      return request(url).get(`${api}${path}`).set(authHeader(caller));
    },
    post(path: string, caller: Caller, body?: unknown) {
      const r = request(url).post(`${api}${path}`).set(authHeader(caller));
      return body === undefined ? r : r.send(body as object);
    },
    /** Waits until the catalog has stitched every entity (the permission checks need them). */
    async waitForCatalog(refs: string[], timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await request(url)
          .post('/api/catalog/entities/by-refs')
          .set(authHeader({ type: 'service' }))
          .send({ entityRefs: refs });
        if (res.status === 200 && res.body.items.every((e: unknown) => e))
          return;
        if (Date.now() > deadline) {
          throw new Error(
            `Catalog did not stitch ${refs.join(', ')} in ${timeoutMs} ms: ${
              res.status
            } ${JSON.stringify(res.body).slice(0, 300)}`,
          );
        }
        await new Promise(r => setTimeout(r, 200));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await backend.stop();
      await Promise.all(ownedKnexes.map(k => k.destroy()));
    },
  };
}
