import {
  AuditorServiceCreateEventOptions,
  BackstageCredentials,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { JsonObject } from '@backstage/types';

/** One audit event as a plugin created it, with how it ended. */
export interface CapturedAuditEvent {
  pluginId: string;
  eventId: string;
  severityLevel?: string;
  meta?: JsonObject;
  /** Who made the request the event is about, as the plugin's own httpAuth saw it. */
  principal?: BackstageCredentials['principal'];
  status: 'initiated' | 'succeeded' | 'failed';
  error?: string;
  endMeta?: JsonObject;
}

/**
 * An auditor that keeps every event in memory, so tests can assert that each mutation (and each
 * denial) was audited. It replaces the core auditor service for every plugin of a test backend.
 */
export function createAuditCapture() {
  const events: CapturedAuditEvent[] = [];
  const factory = createServiceFactory({
    service: coreServices.auditor,
    deps: {
      pluginMetadata: coreServices.pluginMetadata,
      httpAuth: coreServices.httpAuth,
    },
    factory({ pluginMetadata, httpAuth }) {
      return {
        async createEvent(options: AuditorServiceCreateEventOptions) {
          let principal: BackstageCredentials['principal'] | undefined;
          if (options.request) {
            try {
              principal = (
                await httpAuth.credentials(options.request, {
                  allow: ['user', 'service', 'none'],
                })
              ).principal;
            } catch {
              principal = undefined;
            }
          }
          const event: CapturedAuditEvent = {
            pluginId: pluginMetadata.getId(),
            eventId: options.eventId,
            severityLevel: options.severityLevel,
            meta: options.meta,
            principal,
            status: 'initiated',
          };
          events.push(event);
          return {
            async success(o?: { meta?: JsonObject }) {
              event.status = 'succeeded';
              event.endMeta = o?.meta;
            },
            async fail(o: { meta?: JsonObject; error: Error }) {
              event.status = 'failed';
              event.error = `${o.error?.name}: ${o.error?.message}`;
              event.endMeta = o.meta;
            },
          };
        },
      };
    },
  });
  return { factory, events };
}
