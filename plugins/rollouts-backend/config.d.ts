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
