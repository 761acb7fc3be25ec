import { Content, Header, Page } from '@backstage/core-components';
import {
  createPlugin,
  createRoutableExtension,
} from '@backstage/core-plugin-api';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { useParams } from 'react-router-dom';

function EntityPage() {
  const { namespace, kind, name } = useParams();
  return (
    <Page themeId="tool">
      <Header title={`${kind}:${namespace}/${name}`} />
      <Content>The catalog's entity page, in an app with the catalog.</Content>
    </Page>
  );
}

/**
 * Stands in for the catalog's entity page: the cards link to other entities (the one a workload
 * is bound to), and such links need the catalog's entity route mounted somewhere.
 */
export const catalogStubPlugin = createPlugin({ id: 'catalog' });

export const EntityPageStub = catalogStubPlugin.provide(
  createRoutableExtension({
    name: 'EntityPageStub',
    component: async () => EntityPage,
    mountPoint: entityRouteRef,
  }),
);
