import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { rolloutsPermissions } from '@rust-delivery-portal/plugin-rollouts-common';
import { readClusters } from './clusters/clusters';
import { DatabaseRolloutHistoryStore } from './database/RolloutHistoryStore';
import { pruneHistory } from './database/retention';
import { RolloutEngine } from './engine/RolloutEngine';
import { RolloutPublisher } from './engine/RolloutPublisher';
import { readEngineSettings } from './engine/settings';
import { createRouter } from './service/router';
import { readPipelineDefaults } from './pipelines/declaration';
import { ApprovalStore } from './database/ApprovalStore';
import { ReleaseGates } from './service/gates/ReleaseGates';

/**
 * The rollouts backend plugin: rolling update, canary and blue-green rollouts on Kubernetes.
 * @public
 */
export const rolloutsPlugin = createBackendPlugin({
  pluginId: 'rollouts',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        notifications: notificationService,
      },
      async init(deps) {
        const settings = readEngineSettings(deps.config);
        deps.permissionsRegistry.addPermissions(rolloutsPermissions);
        const history = await DatabaseRolloutHistoryStore.create({
          database: deps.database,
        });
        // Its table comes with the history's migrations, applied just above.
        const gates = ReleaseGates.fromConfig(deps.config, {
          store: new ApprovalStore(await deps.database.getClient()),
          notifications: deps.notifications,
          logger: deps.logger,
          now: () => new Date(),
        });
        const engine = RolloutEngine.fromClusters(
          readClusters(deps.config, deps.logger),
          deps.logger,
          settings,
        );
        engine.setListener(
          new RolloutPublisher(
            history,
            deps.signals,
            deps.notifications,
            deps.logger,
          ),
        );
        deps.lifecycle.addShutdownHook(() => engine.stop());
        await deps.scheduler.scheduleTask({
          id: 'rollouts-reconcile',
          scope: 'global',
          frequency: settings.reconcileInterval,
          // Short: a replica that dies mid-pass holds the task's lease until this timeout runs out.
          timeout: { seconds: 30 },
          initialDelay: { seconds: 1 },
          fn: () => engine.reconcileAll(),
        });
        await deps.scheduler.scheduleTask({
          id: 'rollouts-history-retention',
          scope: 'global',
          frequency: { hours: 6 },
          timeout: { minutes: 5 },
          initialDelay: { minutes: 1 },
          fn: async () => {
            await pruneHistory(history, settings, deps.logger);
          },
        });
        deps.httpRouter.use(
          await createRouter({
            engine,
            history,
            catalog: deps.catalog,
            permissions: deps.permissions,
            httpAuth: deps.httpAuth,
            auth: deps.auth,
            auditor: deps.auditor,
            readCacheMs: settings.readCacheMs,
            githubActionsSubjectPrefix: settings.githubActionsSubjectPrefix,
            githubActionsDeployContexts: settings.githubActionsDeployContexts,
            gates,
            pipelines: {
              defaults: readPipelineDefaults(deps.config),
              logger: deps.logger,
              scheduleAutoPromotion: pass =>
                deps.scheduler.scheduleTask({
                  id: 'rollouts-pipeline-promotion',
                  scope: 'global',
                  frequency: settings.pipelinePromotionInterval,
                  timeout: { minutes: 2 },
                  initialDelay: { seconds: 10 },
                  fn: pass,
                }),
            },
          }),
        );
      },
    });
  },
});
