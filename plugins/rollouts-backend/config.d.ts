import { HumanDuration } from '@backstage/types';

export interface Config {
  /**
   * The rollouts backend reads its clusters from the Kubernetes plugin's
   * `kubernetes.clusterLocatorMethods` (type `config`), so clusters are configured once.
   */
  kubernetes?: {
    clusterLocatorMethods?: Array<{
      type: string;
      clusters?: Array<{
        name: string;
        url: string;
        /** Only `serviceAccount` is used by the rollouts backend. */
        authProvider?: string;
        /** @visibility secret */
        serviceAccountToken?: string;
        /** @visibility secret */
        caData?: string;
        caFile?: string;
        skipTLSVerify?: boolean;
      }>;
    }>;
  };
  rollouts?: {
    /**
     * How often the reconcile task advances time-based steps (pause durations, scale-down delays,
     * the canary health gate). Default `{ seconds: 3 }`.
     */
    reconcileInterval?: HumanDuration | string;
    /** Seconds the canary health gate waits for unready canary pods when the workload does not say. Default 60. */
    defaultUnreadyThresholdSeconds?: number;
    /**
     * Seconds the endpoints a page polls (a workload's rollouts, its history) reuse the entity
     * read from the catalog and a viewer's permission decisions. Promote, abort, rollback and
     * every other action always ask the catalog and the permission backend afresh. 0 turns the
     * reuse off. Default 30: longer than the card's idle poll (10 s), so one person's open page is
     * answered from memory. A viewer's decisions follow from their token's claims, which do not
     * change while the token lives; the entity's fields used here (its workload annotations and
     * owner) change rarely, and a change shows within this time.
     */
    readCacheSeconds?: number;
    /** Release pipelines: see the README's "Release pipelines". */
    pipelines?: {
      /**
       * The default order of environments, for entities without a `rollouts.backstage.io/pipeline`
       * annotation (only the stages where they have a workload), and the defaults (soak, promotion)
       * of the annotation's stages in the same cluster.
       */
      stages?: Array<{
        name?: string;
        cluster: string;
        namespace?: string;
        /** How long the stage is Healthy on a release before the next may start it (`10m`). */
        soak?: string | number;
        /** `auto`: the pipeline starts the previous stage's release here. Default `manual`. */
        promotion?: 'auto' | 'manual';
      }>;
      /** How often stages with `promotion: auto` are looked at. Default `{ seconds: 30 }`. */
      promotionInterval?: HumanDuration | string;
    };
    history?: {
      /**
       * Days a history row is kept after its last occurrence; a scheduled task deletes older rows.
       * Default 365.
       */
      retentionDays?: number;
    };
    /**
     * GitHub Actions jobs sign in with their OIDC token through a `jwks` entry of
     * `backend.auth.externalAccess`; such a job may start rollouts only of the entity whose
     * `github.com/project-slug` is its repository, and only images of the entity's
     * `rollouts.backstage.io/image-repository`.
     */
    /**
     * Windows in which starts, promotes and retries are refused (409); abort, rollback, pause
     * and resume stay allowed. Each has either `start` and `end`, or `recurring`.
     */
    freezeWindows?: Array<{
      /** Named in the refusal and on the card; unique. */
      name: string;
      message?: string;
      /** Clusters it applies to; absent = all. */
      clusters?: string[];
      /** Namespaces it applies to; absent = all. */
      namespaces?: string[];
      /** ISO 8601 with an offset, e.g. 2026-12-24T00:00:00+01:00 (included). */
      start?: string;
      /** ISO 8601 with an offset (excluded: changes are allowed again at this instant). */
      end?: string;
      /** A weekly window in a time zone. */
      recurring?: {
        /** The days a window begins: monday ... sunday. */
        days: string[];
        /** HH:MM, local time. */
        from: string;
        /** HH:MM, local time. */
        to: string;
        /** The day it ends, when that is days later (friday to monday); default the next `to`. */
        endDay?: string;
        /** IANA time zone, e.g. Europe/Berlin. */
        timeZone: string;
      };
    }>;
    /** Four-eyes approval: on protected targets another owner approves starts and promotes. */
    approvals?: {
      /** How long a request waits for a decision. Default 24 hours. */
      expiresAfter?: HumanDuration | string;
      rules?: Array<{
        clusters?: string[];
        namespaces?: string[];
        /** `start` (and retry), `promote-full`, or `promote` (any promote). */
        actions: Array<'start' | 'promote-full' | 'promote'>;
        expiresAfter?: HumanDuration | string;
      }>;
    };
    githubActions?: {
      /** The `subjectPrefix` of that `jwks` entry. Default `github-actions`. */
      subjectPrefix?: string;
      /**
       * What the token's subject must say the job ran for, after `repo:OWNER/REPO:`. Default
       * `[environment:production]`: the generated deploy job's environment, which GitHub can
       * protect (required reviewers, allowed branches); a pull request's job may not deploy.
       */
      deployContexts?: string[];
    };
  };
}
