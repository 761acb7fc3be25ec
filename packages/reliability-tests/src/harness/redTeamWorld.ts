import { Entity } from '@backstage/catalog-model';
import {
  ROLLOUT_ANNOTATIONS,
  ROLLOUT_ENTITY_ANNOTATIONS,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { CANARY_STEPS } from './workloads';

/**
 * The world the red-team suite attacks, shaped like `make start`'s demo: team-search owns the
 * whole `search` namespace (its Namespace names `search-indexer`); team-rust's services share the
 * `shop` namespace, whose Namespace lists them (an allow-list: each Deployment names its own).
 */
export const SEARCH_NS = 'search';
export const SHOP_NS = 'shop';

export const PEOPLE = {
  /** The attacker: signed in as Guest, a member of team-rust, as under `make start`. */
  guest: { ref: 'user:default/guest', memberOf: ['group:default/team-rust'] },
  /** Owner of search-indexer through team-search. */
  sam: { ref: 'user:default/sam', memberOf: ['group:default/team-search'] },
  /** A platform engineer: the default `portal.permissions.platformGroups`. */
  pat: { ref: 'user:default/pat', memberOf: ['group:default/platform'] },
  /** Floods histories with denied attempts. */
  mallory: { ref: 'user:default/mallory', memberOf: [] },
} as const;

export const ref = (name: string) => `component:default/${name}`;

/** The users the suite signs in as, with their groups (their tokens' ownership claims). */
export function redTeamUsers(): Record<string, readonly string[]> {
  return Object.fromEntries(
    Object.values(PEOPLE).map(p => [p.ref, p.memberOf]),
  );
}

function deployment(
  namespace: string,
  name: string,
  image: string,
  annotations: Record<string, string>,
  replicas = 2,
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { app: name, 'backstage.io/kubernetes-id': name },
      annotations,
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, 'backstage.io/kubernetes-id': name } },
        spec: {
          serviceAccountName: name,
          containers: [
            { name: 'app', image, ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    },
  };
}

function service(
  namespace: string,
  name: string,
  app: string,
  boundTo?: string,
) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: { app },
      ...(boundTo
        ? { annotations: { [ROLLOUT_ANNOTATIONS.entity]: ref(boundTo) } }
        : {}),
    },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

const canary = (entity?: string) => ({
  [ROLLOUT_ANNOTATIONS.strategy]: 'Canary',
  [ROLLOUT_ANNOTATIONS.canarySteps]: JSON.stringify(CANARY_STEPS),
  [ROLLOUT_ANNOTATIONS.canaryUnreadyThreshold]: '120',
  ...(entity ? { [ROLLOUT_ANNOTATIONS.entity]: entity } : {}),
});

const bound = (name: string) => ({ [ROLLOUT_ANNOTATIONS.entity]: ref(name) });

/** Images every workload starts with. */
export const IMAGES = {
  searchIndexer: 'ghcr.io/acme-search/search-indexer:1.4.0',
  ordersApi: 'ghcr.io/acme/orders-api:1.0.0',
  checkoutWeb: 'ghcr.io/acme/checkout-web:2.0.0',
  ciApp: 'ghcr.io/acme/ci-app:1.0.0',
};

export const SHOP_ENTITIES = [
  'orders-api',
  'checkout-web',
  'ledger',
  'ci-app',
  'script-app',
  'stray',
  'dual-a',
  'dual-b',
  'audit-app',
  'cart-web',
];

export function redTeamObjects(): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: SEARCH_NS,
        annotations: { [ROLLOUT_ANNOTATIONS.entity]: ref('search-indexer') },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: SHOP_NS,
        annotations: {
          [ROLLOUT_ANNOTATIONS.entity]: SHOP_ENTITIES.map(ref).join(','),
        },
      },
    },
    // team-search's service, as the template would have created it.
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'search-indexer',
        namespace: SEARCH_NS,
        annotations: bound('search-indexer'),
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'search-indexer-config',
        namespace: SEARCH_NS,
        annotations: bound('search-indexer'),
      },
      data: { RUST_LOG: 'info' },
    },
    deployment(
      SEARCH_NS,
      'search-indexer',
      IMAGES.searchIndexer,
      canary(ref('search-indexer')),
    ),
    service(SEARCH_NS, 'search-indexer', 'search-indexer', 'search-indexer'),
    // A canary whose companion name is squatted by a Deployment the engine did not make.
    deployment(
      SHOP_NS,
      'orders-api',
      IMAGES.ordersApi,
      canary(ref('orders-api')),
    ),
    service(SHOP_NS, 'orders-api', 'orders-api', 'orders-api'),
    deployment(
      SHOP_NS,
      'orders-api-canary',
      'ghcr.io/acme/ledger-worker:3.1.0',
      bound('ledger'),
      1,
    ),
    // A blue-green whose active-service annotation names another entity's Service.
    deployment(SHOP_NS, 'checkout-web', IMAGES.checkoutWeb, {
      [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
      [ROLLOUT_ANNOTATIONS.activeService]: 'ledger',
      [ROLLOUT_ANNOTATIONS.previewService]: 'checkout-web-preview',
      [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '1s',
      ...bound('checkout-web'),
    }),
    service(SHOP_NS, 'checkout-web-preview', 'checkout-web', 'checkout-web'),
    // A blue-green whose preview-service annotation names another entity's Service.
    deployment(SHOP_NS, 'cart-web', 'ghcr.io/acme/cart-web:1.0.0', {
      [ROLLOUT_ANNOTATIONS.strategy]: 'BlueGreen',
      [ROLLOUT_ANNOTATIONS.activeService]: 'cart-web',
      [ROLLOUT_ANNOTATIONS.previewService]: 'ledger-preview',
      [ROLLOUT_ANNOTATIONS.scaleDownDelay]: '1s',
      ...bound('cart-web'),
    }),
    service(SHOP_NS, 'cart-web', 'cart-web', 'cart-web'),
    service(SHOP_NS, 'ledger-preview', 'ledger', 'ledger'),
    deployment(SHOP_NS, 'ledger', 'ghcr.io/acme/ledger:3.1.0', bound('ledger')),
    service(SHOP_NS, 'ledger', 'ledger', 'ledger'),
    // CI: started by its repository's GitHub Actions identity, and by the local static token.
    deployment(SHOP_NS, 'ci-app', IMAGES.ciApp, bound('ci-app')),
    deployment(
      SHOP_NS,
      'script-app',
      'ghcr.io/acme/script-app:1.0.0',
      bound('script-app'),
    ),
    // team-rust's canary whose start and promote the audit checks read.
    deployment(
      SHOP_NS,
      'audit-app',
      'ghcr.io/acme/audit-app:1.0.0',
      canary(ref('audit-app')),
    ),
    // In a namespace that lists several entities, a Deployment that names none is nobody's.
    deployment(SHOP_NS, 'stray', 'ghcr.io/acme/stray:1.0.0', {}),
    // A Deployment that names two entities is contested.
    deployment(SHOP_NS, 'dual', 'ghcr.io/acme/dual:1.0.0', {
      [ROLLOUT_ANNOTATIONS.entity]: `${ref('dual-a')},${ref('dual-b')}`,
    }),
  ];
}

export function component(
  name: string,
  owner: string,
  annotations: Record<string, string>,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: { type: 'service', lifecycle: 'production', owner },
  };
}

const k8s = (id: string, namespace?: string) => ({
  'backstage.io/kubernetes-id': id,
  ...(namespace ? { 'backstage.io/kubernetes-namespace': namespace } : {}),
});

export function redTeamEntities(): Entity[] {
  const user = (r: string, memberOf: readonly string[]): Entity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: r.replace(/^user:default\//, ''), namespace: 'default' },
    spec: { memberOf: memberOf.map(g => g.replace(/^group:default\//, '')) },
  });
  const group = (name: string): Entity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, namespace: 'default' },
    spec: { type: 'team', children: [] },
  });
  const rust = 'group:default/team-rust';
  return [
    ...Object.values(PEOPLE).map(p => user(p.ref, p.memberOf)),
    ...['team-rust', 'team-search', 'platform'].map(group),
    component('search-indexer', 'group:default/team-search', {
      ...k8s('search-indexer', SEARCH_NS),
      [ROLLOUT_ENTITY_ANNOTATIONS.githubProjectSlug]:
        'acme-search/search-indexer',
      [ROLLOUT_ENTITY_ANNOTATIONS.imageRepository]:
        'ghcr.io/acme-search/search-indexer',
    }),
    component('orders-api', rust, k8s('orders-api', SHOP_NS)),
    component('checkout-web', rust, k8s('checkout-web', SHOP_NS)),
    component('cart-web', rust, k8s('cart-web', SHOP_NS)),
    component('ledger', 'group:default/team-ledger', k8s('ledger', SHOP_NS)),
    component('ci-app', rust, {
      ...k8s('ci-app', SHOP_NS),
      [ROLLOUT_ENTITY_ANNOTATIONS.githubProjectSlug]: 'acme/ci-app',
      [ROLLOUT_ENTITY_ANNOTATIONS.imageRepository]: 'ghcr.io/acme/ci-app',
    }),
    component('script-app', rust, k8s('script-app', SHOP_NS)),
    component('stray', rust, k8s('stray', SHOP_NS)),
    component('audit-app', rust, k8s('audit-app', SHOP_NS)),
    component('dual-a', rust, k8s('dual', SHOP_NS)),
    component('dual-b', 'group:default/team-ledger', k8s('dual', SHOP_NS)),
    // Selectors that match every Deployment (no positive requirement).
    component('match-all', rust, {
      'backstage.io/kubernetes-label-selector': '!x',
      'backstage.io/kubernetes-namespace': SHOP_NS,
    }),
    component('match-all-notin', rust, {
      'backstage.io/kubernetes-label-selector': 'tier notin (none)',
    }),
    component('match-all-neq', rust, {
      'backstage.io/kubernetes-label-selector': 'app!=nothing',
      'backstage.io/kubernetes-namespace': SHOP_NS,
    }),
    // No namespace: actions must say which one.
    component('ci-app-anywhere', rust, k8s('ci-app')),
  ];
}
