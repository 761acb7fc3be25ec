import type { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import type { RolloutsApi } from './RolloutsApi';
import type { RolloutsClient } from './RolloutsClient';

function loadRolloutsClient(): Promise<typeof RolloutsClient> {
  return import('./RolloutsClient').then(m => m.RolloutsClient);
}

/**
 * Starts loading the client's code without waiting for it: the views call this beside their own
 * `import()`, so the client arrives with them rather than after their first request. A failure is
 * left to that first request to report.
 */
export function preloadRolloutsClient(): void {
  loadRolloutsClient().catch(() => {});
}

/**
 * What the API factories hand out: they run in the app's initial chunk, so instead of a
 * {@link RolloutsClient} they return this stand-in, which loads the client's code once, on the
 * first call, and forwards every call to it.
 */
export function lazyRolloutsClient(options: {
  discoveryApi: DiscoveryApi;
  fetchApi: FetchApi;
}): RolloutsApi {
  let client: Promise<RolloutsApi> | undefined;
  const load = () => {
    if (!client) {
      client = loadRolloutsClient().then(Client => new Client(options));
      // A failed chunk load (network blip, new deploy) must not stick: the next call retries.
      client.catch(() => {
        client = undefined;
      });
    }
    return client;
  };
  type Method<K extends keyof RolloutsApi> = (
    ...args: Parameters<RolloutsApi[K]>
  ) => ReturnType<RolloutsApi[K]>;
  const forward =
    <K extends keyof RolloutsApi>(method: K): Method<K> =>
    (...args) => {
      const result = load().then<unknown>(target =>
        (target[method] as Method<K>).apply(target, args),
      );
      return result as ReturnType<RolloutsApi[K]>;
    };
  return {
    getRollouts: forward('getRollouts'),
    getHistory: forward('getHistory'),
    startRollout: forward('startRollout'),
    runAction: forward('runAction'),
    getPipeline: forward('getPipeline'),
    promoteRelease: forward('promoteRelease'),
    getApprovals: forward('getApprovals'),
    approve: forward('approve'),
    deny: forward('deny'),
  };
}
