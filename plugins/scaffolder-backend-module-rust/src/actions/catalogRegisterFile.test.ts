import { createMockDirectory } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { LocalTarget } from '../local/LocalTarget';
import { createCatalogRegisterFileAction } from './catalogRegisterFile';

describe('rust:catalog:register-file', () => {
  const root = createMockDirectory();
  const catalog = catalogServiceMock.mock({
    addLocation: jest.fn(async location => ({
      location: { id: 'loc-1', ...location },
      entities: [],
    })) as any,
  });

  beforeEach(() => {
    jest.clearAllMocks();
    root.setContent({
      services: {
        orders: {
          'catalog-info.yaml':
            'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec: {}\n',
        },
      },
      elsewhere: {
        'catalog-info.yaml': 'kind: Component\nmetadata:\n  name: x\n',
      },
    });
  });

  const action = () =>
    createCatalogRegisterFileAction({
      catalog,
      localTarget: new LocalTarget(root.resolve('services')),
    });

  it('registers a file location with the initiator credentials', async () => {
    const file = root.resolve('services/orders/catalog-info.yaml');
    const ctx = createMockActionContext({ input: { path: file } });
    await action().handler(ctx);
    expect(catalog.addLocation).toHaveBeenCalledWith(
      { type: 'file', target: file },
      { credentials: await ctx.getInitiatorCredentials() },
    );
    expect(ctx.output).toHaveBeenCalledWith(
      'entityRef',
      'component:default/orders',
    );
  });

  it.each([
    [
      'a file outside the local directory',
      () => root.resolve('elsewhere/catalog-info.yaml'),
    ],
    [
      'a path that climbs out',
      () => root.resolve('services/../elsewhere/catalog-info.yaml'),
    ],
    ['a relative path', () => 'services/orders/catalog-info.yaml'],
  ])('refuses %s', async (_, file) => {
    const ctx = createMockActionContext({ input: { path: file() } });
    await expect(action().handler(ctx)).rejects.toThrow('Refusing to register');
    expect(catalog.addLocation).not.toHaveBeenCalled();
  });

  it('registers nothing in a dry run', async () => {
    const ctx = {
      ...createMockActionContext({
        input: { path: root.resolve('services/orders/catalog-info.yaml') },
      }),
      isDryRun: true,
    };
    await action().handler(ctx);
    expect(catalog.addLocation).not.toHaveBeenCalled();
  });
});
