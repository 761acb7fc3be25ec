import { createRouteRef } from '@backstage/core-plugin-api';

/** Where the legacy app mounts the Deployment tab. */
export const rootRouteRef = createRouteRef({
  id: 'rollouts',
});
