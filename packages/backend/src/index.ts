/*
 * The portal's backend: catalog, scaffolder (with the Rust template's actions), kubernetes,
 * rollouts, permissions with our policy, GitHub/OIDC (and local guest) sign-in, signals and notifications.
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

// auth: GitHub and OIDC sign-in (configured in app-config.production.yaml); guest sign-in only
// where app-config.yaml configures it, i.e. the local portal. A module whose provider has no
// config for the current auth.environment registers nothing.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-github-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-oidc-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
// and the demo organisation's users, so one person can act as two owners (four-eyes approval)
backend.add(import('./modules/demoUsers'));

// catalog
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
backend.add(import('./modules/catalogLocationTypes'));

// scaffolder, with the actions the Rust service template uses
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);
backend.add(
  import('@rust-delivery-portal/plugin-scaffolder-backend-module-rust'),
);

// permissions: everyone reads, owners of an entity act on its rollouts
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('./permissions/policyModule'));

// kubernetes (read-only views) and rollouts (actions) share the cluster config
backend.add(import('@backstage/plugin-kubernetes-backend'));
backend.add(import('@rust-delivery-portal/plugin-rollouts-backend'));

backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-notifications-backend'));
// events: lets signals and catalog events reach every backend replica
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

backend.start();
