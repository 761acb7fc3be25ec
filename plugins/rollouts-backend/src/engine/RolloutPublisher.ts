import { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  RolloutSignalMessage,
  rolloutsSignalChannel,
} from '@rust-delivery-portal/plugin-rollouts-common';
import { NotificationService } from '@backstage/plugin-notifications-node';
import { SignalsService } from '@backstage/plugin-signals-node';
import { RolloutHistoryStore } from '../database/RolloutHistoryStore';
import { RolloutEngineListener, RolloutEvent } from './RolloutEngine';

const TITLES = {
  paused: 'is waiting for promotion',
  degraded: 'is degraded',
  aborted: 'was aborted',
} as const;

/**
 * Tells the world what the engine did: history rows for engine events, a signal for every state
 * change, and a notification to the entity's owners when a rollout needs them.
 */
export class RolloutPublisher implements RolloutEngineListener {
  constructor(
    private readonly history: RolloutHistoryStore,
    private readonly signals: SignalsService,
    private readonly notifications: NotificationService,
    private readonly logger: LoggerService,
  ) {}

  async onSystemEvent(event: RolloutEvent): Promise<void> {
    await this.history.record({
      entityRef: event.entityRef,
      cluster: event.cluster,
      namespace: event.namespace,
      workload: event.workload,
      action: event.action,
      actor: 'system',
      outcome: 'succeeded',
      message: event.message,
      stepIndex: event.stepIndex,
      revision: event.revision,
      image: event.image,
    });
  }

  async onStateChange(event: RolloutEvent): Promise<void> {
    const message: RolloutSignalMessage = {
      type: 'changed',
      entityRef: event.entityRef,
      cluster: event.cluster,
      namespace: event.namespace,
      workload: event.workload,
      phase: event.phase,
      cause: event.action,
    };
    await this.signals
      .publish({
        recipients: { type: 'broadcast' },
        channel: rolloutsSignalChannel(event.entityRef),
        message: { ...message },
      })
      .catch(e =>
        this.logger.warn(`Signal for ${event.entityRef} failed: ${e}`),
      );
    if (event.notify) {
      await this.notify(event, event.notify);
    }
  }

  private async notify(event: RolloutEvent, kind: keyof typeof TITLES) {
    const ref = parseEntityRef(event.entityRef);
    try {
      // The notifications backend resolves a component's recipients to its owners.
      await this.notifications.send({
        recipients: { type: 'entity', entityRef: event.entityRef },
        payload: {
          title: `Rollout of ${event.workload} in ${event.cluster} ${TITLES[kind]}`,
          description: event.message,
          link: `/catalog/${ref.namespace}/${ref.kind.toLocaleLowerCase(
            'en-US',
          )}/${ref.name}/deployment`,
          severity: kind === 'paused' ? 'normal' : 'high',
          topic: 'rollouts',
          scope: `rollouts:${event.cluster}/${event.namespace}/${event.workload}:${event.revision}:${kind}`,
        },
      });
    } catch (e) {
      this.logger.warn(`Notification for ${event.entityRef} failed: ${e}`);
    }
  }
}
