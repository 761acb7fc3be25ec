import { createBackend } from '@backstage/backend-defaults';
import {
  coreServices,
  createBackendPlugin,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import type { KubernetesPluginSettings } from '@internal/kube-real';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogScaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderModuleRust from '@rust-delivery-portal/plugin-scaffolder-backend-module-rust';
import kubernetesPlugin from '@backstage/plugin-kubernetes-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
// These suites install the real plugins into test backends, as packages/backend does.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import rolloutsPlugin from '@rust-delivery-portal/plugin-rollouts-backend';
// The portal's own policy and catalog location rules (packages/backend exports nothing): the
// red-team suite attacks that very composition, not a copy of it.
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import rolloutsPolicyModule from 'backend/src/permissions/policyModule';
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import catalogLocationTypesModule from 'backend/src/modules/catalogLocationTypes';
import express from 'express';
import { JWK } from 'jose';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { CapturedAuditEvent, createAuditCapture } from './auditCapture';
import { catalogEntitiesModule } from './catalogEntities';
import { spawnHarnessProcess } from './spawnPortal';
import {
  GithubOidcIssuer,
  createUserTokenSigner,
  userTokenIssuerPlugin,
} from './tokenIssuers';

/** The static token of the red-team backend (restricted as app-config.yaml restricts the local one). */
export const STATIC_CI_TOKEN = 'red-team-static-ci-token-0123456789abcdef';
/** The cluster's name, as under `make start`. */
export const CLUSTER = 'local';

async function freeLoopbackPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/**
 * Serves catalog-info.yaml documents on loopback, for `url` locations an attacker registers
 * through `POST /api/catalog/locations` (what `url` locations on GitHub do in production).
 */
async function startLocationServer() {
  const documents = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const body = documents.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' });
    res.end(body);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    /** Serves `yaml` and returns its URL. */
    serve(name: string, yaml: string) {
      const urlPath = `/${name}/catalog-info.yaml`;
      documents.set(urlPath, yaml);
      return `http://${host}${urlPath}`;
    },
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  };
}

/**
 * The access restrictions the product's own config gives its CI credentials: the static token's
 * in app-config.yaml (local scripts), the GitHub Actions `jwks` entry's in
 * app-config.production.yaml. The suite attacks those, not restrictions of its own.
 */
function productAccessRestrictions() {
  const root = resolvePackagePath('@internal/reliability-tests', '../..');
  const entries = (file: string): any[] =>
    parseYaml(fs.readFileSync(path.join(root, file), 'utf8'))?.backend?.auth
      ?.externalAccess ?? [];
  const find = (file: string, type: string) => {
    const entry = entries(file).find(e => e.type === type);
    if (!entry?.accessRestrictions) {
      throw new Error(
        `${file} has no ${type} externalAccess entry with accessRestrictions`,
      );
    }
    return entry.accessRestrictions as JsonObject[];
  };
  return {
    static: find('app-config.yaml', 'static'),
    jwks: find('app-config.production.yaml', 'jwks'),
  };
}

/** What the backend process needs to know (JSON: it crosses a process boundary). */
export interface RedTeamBackendOptions {
  port: number;
  kubeUrl: string;
  entities: Entity[];
  github: { jwksUrl: string; issuer: string; audience: string };
  /** The user tokens' public key, and each user's ownership claims. */
  userKey: JWK;
  ownership: Record<string, string[]>;
  /** host:port of the loopback server that serves registered catalog-info.yaml files. */
  locationHost: string;
  reconcileMs?: number;
  /**
   * The cluster credentials: the Kubernetes plugin's reader and the engine's own, as
   * plugins/rollouts-backend/rbac names them (default: fixed tokens, which kube-sim takes).
   */
  kubeTokens?: { reader: string; engine: string };
  /** What the Kubernetes plugin must be told about the cluster (TestCluster.kubernetesPlugin). */
  kubernetesPlugin?: KubernetesPluginSettings;
  /**
   * Adds the scaffolder with the Rust template's module (and `file` locations, which its local
   * target registers): the template's working folder and its local target folder.
   */
  scaffolder?: { workingDirectory: string; localDirectory: string };
}

/** Serves the audit events the backend recorded, for the test process to read (loopback only). */
function auditEventsPlugin(events: CapturedAuditEvent[]) {
  return createBackendPlugin({
    pluginId: 'reliability-audit',
    register(env) {
      env.registerInit({
        deps: { httpRouter: coreServices.httpRouter },
        async init({ httpRouter }) {
          const router = express.Router();
          router.get('/events', (_req, res) => {
            res.json({ items: events });
          });
          httpRouter.use(router);
          httpRouter.addAuthPolicy({
            path: '/events',
            allow: 'unauthenticated',
          });
        },
      });
    },
  });
}

/**
 * The portal's backend as packages/backend composes it, for the red-team suite: createBackend()
 * with every core service as in production (the real auth service and httpAuth of every plugin, so
 * `backend.auth.externalAccess` works: a static token with `accessRestrictions` and a `jwks` entry
 * for GitHub Actions OIDC tokens; the root HTTP router on 127.0.0.1; discovery, userInfo,
 * permissions, scheduler, per-plugin SQLite databases, url reader), the real catalog with
 * `POST /api/catalog/locations` allowed (the backend's own location-type module), the real
 * permission backend with the portal's policy, the Kubernetes backend plugin (its proxy
 * included) and the rollouts plugin. Only the config, the logger and the auditor are replaced,
 * and a stand-in for the auth backend serves the user tokens' key. Runs in its own process
 * (redTeamPortalProcess.ts).
 */
export async function composeRedTeamBackend(options: RedTeamBackendOptions) {
  const audit = createAuditCapture();
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const restrictions = productAccessRestrictions();
  const config: JsonObject = {
    backend: {
      baseUrl,
      listen: { host: '127.0.0.1', port: options.port },
      // One in-memory SQLite database per plugin, as `make start` runs.
      database: { client: 'better-sqlite3', connection: ':memory:' },
      auth: {
        externalAccess: [
          {
            type: 'static',
            options: { token: STATIC_CI_TOKEN, subject: 'local-scripts' },
            accessRestrictions: restrictions.static,
          },
          {
            type: 'jwks',
            options: {
              url: options.github.jwksUrl,
              issuer: options.github.issuer,
              audience: options.github.audience,
              algorithm: 'RS256',
              subjectPrefix: 'github-actions',
            },
            accessRestrictions: restrictions.jwks,
          },
        ],
      },
      reading: { allow: [{ host: options.locationHost }] },
      ...(options.scaffolder
        ? { workingDirectory: options.scaffolder.workingDirectory }
        : {}),
    },
    ...(options.scaffolder
      ? {
          rustTemplate: {
            localTarget: { directory: options.scaffolder.localDirectory },
          },
        }
      : {}),
    permission: { enabled: true },
    catalog: {
      processingInterval: { seconds: 1 },
      allowedLocationTypes: options.scaffolder ? ['url', 'file'] : ['url'],
      rules: [
        {
          allow: [
            'Component',
            'System',
            'API',
            'Resource',
            'Location',
            'User',
            'Group',
            'Template',
          ],
        },
      ],
    },
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      ...(options.kubernetesPlugin?.apiVersionOverrides
        ? { apiVersionOverrides: options.kubernetesPlugin.apiVersionOverrides }
        : {}),
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            {
              name: CLUSTER,
              url: options.kubeUrl,
              authProvider: 'serviceAccount',
              serviceAccountToken:
                options.kubeTokens?.reader ?? 'kubernetes-reader-token',
              skipTLSVerify: true,
              skipMetricsLookup:
                options.kubernetesPlugin?.skipMetricsLookup ?? false,
            },
          ],
        },
      ],
    },
    rollouts: {
      reconcileInterval: { milliseconds: options.reconcileMs ?? 500 },
      readCacheSeconds: 0,
      clusters: [
        {
          name: CLUSTER,
          serviceAccountToken:
            options.kubeTokens?.engine ?? 'rollouts-engine-token',
        },
      ],
      githubActions: { subjectPrefix: 'github-actions' },
    },
  };

  // createBackend(): every core service as in production; only the config, the logger and the
  // auditor (which the tests read) are replaced.
  const backend = createBackend();
  for (const feature of [
    mockServices.rootConfig.factory({ data: config }),
    mockServices.rootLogger.factory({
      level: (process.env.RELIABILITY_LOG as any) ?? 'none',
    }),
    audit.factory,
    auditEventsPlugin(audit.events),
    userTokenIssuerPlugin({
      publicJwk: options.userKey,
      ownership: options.ownership,
    }),
    catalogPlugin,
    catalogLocationTypesModule,
    catalogEntitiesModule(options.entities),
    permissionPlugin,
    rolloutsPolicyModule,
    kubernetesPlugin,
    rolloutsPlugin,
    ...(options.scaffolder
      ? [catalogScaffolderEntityModel, scaffolderPlugin, scaffolderModuleRust]
      : []),
  ]) {
    backend.add(feature);
  }
  await backend.start();
  return { url: baseUrl, stop: () => backend.stop() };
}

export interface RedTeamPortalOptions {
  kubeUrl: string;
  entities: Entity[];
  github: GithubOidcIssuer;
  /** Users the tests sign in as, with the groups they are members of. */
  users: Record<string, readonly string[]>;
  reconcileMs?: number;
  kubeTokens?: RedTeamBackendOptions['kubeTokens'];
  kubernetesPlugin?: RedTeamBackendOptions['kubernetesPlugin'];
  scaffolder?: RedTeamBackendOptions['scaffolder'];
}

/**
 * Starts the red-team backend (composeRedTeamBackend) in a child process, and gives the test what
 * an attacker and the platform team have: signed-in users' tokens, the CI credentials, a place to
 * host catalog-info.yaml files, and (for the assertions) the audit events the backend recorded.
 */
export async function startRedTeamPortal(options: RedTeamPortalOptions) {
  const locations = await startLocationServer();
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const signer = await createUserTokenSigner(`${url}/api/auth`);
  const ownership = Object.fromEntries(
    Object.entries(options.users).map(([user, groups]) => [
      user,
      [user, ...groups],
    ]),
  );
  const backendOptions: RedTeamBackendOptions = {
    port,
    kubeUrl: options.kubeUrl,
    entities: options.entities,
    github: {
      jwksUrl: options.github.jwksUrl,
      issuer: options.github.issuer,
      audience: options.github.audience,
    },
    userKey: signer.publicJwk,
    ownership,
    locationHost: locations.host,
    reconcileMs: options.reconcileMs,
    kubeTokens: options.kubeTokens,
    kubernetesPlugin: options.kubernetesPlugin,
    scaffolder: options.scaffolder,
  };
  const proc = await spawnHarnessProcess(
    'redTeamPortalProcess.ts',
    backendOptions,
    120_000,
  );

  const tokens = new Map<string, string>();
  /** A signed-in user's bearer header (ownership claims: themselves and their groups). */
  async function userHeader(user: string) {
    if (!tokens.has(user)) {
      tokens.set(user, await signer.issue(user, options.users[user] ?? []));
    }
    return { authorization: `Bearer ${tokens.get(user)}` };
  }
  let stopped = false;

  return {
    url,
    http: () => request(url),
    userHeader,
    bearer: (token: string) => ({ authorization: `Bearer ${token}` }),
    staticCiHeader: { authorization: `Bearer ${STATIC_CI_TOKEN}` },
    /** Serves a catalog-info.yaml on loopback and returns its URL (for `url` locations). */
    serveLocation: locations.serve,
    /** Every audit event the backend recorded so far, in order. */
    async audit(): Promise<CapturedAuditEvent[]> {
      const res = await request(url).get('/api/reliability-audit/events');
      if (res.status !== 200) throw new Error(`audit events: ${res.status}`);
      return res.body.items;
    },
    /** Waits until the catalog has stitched every entity (permission checks need them). */
    async waitForCatalog(refs: string[], timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const [reader] = Object.keys(options.users);
      const header = await userHeader(reader);
      for (;;) {
        const res = await request(url)
          .post('/api/catalog/entities/by-refs')
          .set(header)
          .send({ entityRefs: refs });
        if (res.status === 200 && res.body.items.every((e: unknown) => e)) {
          return res.body.items as Entity[];
        }
        if (Date.now() > deadline) {
          throw new Error(
            `Catalog did not stitch ${refs.join(', ')} in ${timeoutMs} ms: ${
              res.status
            } ${JSON.stringify(res.body).slice(0, 300)}`,
          );
        }
        await new Promise(r => setTimeout(r, 250));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.stop();
      await locations.close();
    },
  };
}
export type RedTeamPortal = Awaited<ReturnType<typeof startRedTeamPortal>>;
