import { ReactNode, useMemo } from 'react';
import { ApiProvider } from '@backstage/core-app-api';
import { ApiHolder, ApiRef, useApiHolder } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { rolloutsApiRef } from '../src/api';
import type { RolloutsDevScenario } from './scenarios';

/**
 * Puts one scenario's entity and rollouts backend under its children; every other API (alerts,
 * identity, permissions...) is the app's. One page can then show every state side by side.
 */
export function ScenarioProvider(props: {
  scenario: RolloutsDevScenario;
  children: ReactNode;
}) {
  const { scenario, children } = props;
  const app = useApiHolder();
  const apis = useMemo<ApiHolder>(
    () => ({
      get<T>(ref: ApiRef<T>): T | undefined {
        return ref.id === rolloutsApiRef.id
          ? (scenario.api as unknown as T)
          : app.get(ref);
      },
    }),
    [app, scenario],
  );
  return (
    <ApiProvider apis={apis}>
      <EntityProvider entity={scenario.entity}>{children}</EntityProvider>
    </ApiProvider>
  );
}
