import { InputError } from '@backstage/errors';
import {
  canaryStepsFromWeights,
  checkServiceName,
  validateServiceParams,
} from './serviceParams';

const valid = {
  name: 'orders-api',
  port: 8080,
  strategy: 'RollingUpdate',
  cluster: 'local',
  namespace: 'default',
};

describe('validateServiceParams', () => {
  it('completes valid input with defaults', () => {
    expect(
      validateServiceParams({ ...valid, imageOrganization: 'Acme' }),
    ).toEqual({
      name: 'orders-api',
      crateName: 'orders_api',
      port: 8080,
      strategy: 'RollingUpdate',
      canarySteps: [],
      autoPromotion: false,
      scaleDownDelay: '30s',
      trafficRouting: 'replica-ratio',
      cluster: 'local',
      namespace: 'default',
      imageRepository: 'ghcr.io/acme/orders-api',
      imageRegistry: 'ghcr.io',
      rustVersion: '1.95.0',
    });
  });

  it('routes a canary through the Gateway API only with a valid parent Gateway', () => {
    const routed = {
      ...valid,
      strategy: 'Canary',
      trafficRouting: 'gateway-api',
      gatewayName: 'public',
      gatewayNamespace: 'gateways',
    };
    expect(validateServiceParams(routed)).toMatchObject({
      trafficRouting: 'gateway-api',
      gateway: { name: 'public', namespace: 'gateways' },
    });
    expect(() =>
      validateServiceParams({ ...routed, gatewayName: undefined }),
    ).toThrow('Invalid Gateway name undefined');
    expect(() =>
      validateServiceParams({ ...routed, gatewayNamespace: 'Gate/ways' }),
    ).toThrow('Invalid Gateway namespace "Gate/ways"');
    expect(() =>
      validateServiceParams({ ...routed, trafficRouting: 'istio' }),
    ).toThrow('Invalid traffic routing "istio"');
    // Only canaries are routed; the other strategies ignore it.
    expect(
      validateServiceParams({ ...routed, strategy: 'BlueGreen' }),
    ).toMatchObject({ trafficRouting: 'replica-ratio' });
    expect(
      validateServiceParams({ ...routed, strategy: 'BlueGreen' }).gateway,
    ).toBeUndefined();
  });

  it('turns canary weights into Argo Rollouts steps ending at 100%', () => {
    expect(canaryStepsFromWeights([20, 50])).toEqual([
      { setWeight: 20 },
      { pause: {} },
      { setWeight: 50 },
      { pause: {} },
      { setWeight: 100 },
    ]);
    expect(
      validateServiceParams({ ...valid, strategy: 'Canary' }).canarySteps,
    ).toHaveLength(5);
  });

  it.each([
    [[], 'give at least one traffic weight'],
    [[50, 50], 'step 2 (50%) is not above step 1 (50%)'],
    [[60, 30], 'Canary steps must increase'],
    [
      [0, 10],
      'Canary step 1 is 0: each weight must be a whole percentage from 1 to 99',
    ],
    [[20, 100], 'Canary step 2 is 100'],
    [[12.5], 'Canary step 1 is 12.5'],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'at most 10 weights'],
  ])('refuses canary steps %j', (weights, message) => {
    expect(() =>
      validateServiceParams({
        ...valid,
        strategy: 'Canary',
        canarySteps: weights,
      }),
    ).toThrow(message);
    expect(() => canaryStepsFromWeights(weights)).toThrow(InputError);
  });

  it.each([
    ['Orders', 'lower-case'],
    ['9lives', 'starting with a letter'],
    ['orders-', 'not ending with a dash'],
    ['a--b', 'no consecutive dashes'],
    ['../etc', 'Invalid service name'],
    ['a'.repeat(41), 'Invalid service name'],
    ['test', 'reserved by Cargo'],
    ['orders\nkind: Secret', 'Invalid service name'],
  ])('refuses the name %j', (name, message) => {
    expect(() => checkServiceName(name)).toThrow(message);
  });

  it.each([
    [{ port: 80 }, 'Invalid port 80: use a whole number from 1024 to 65535'],
    [{ port: 65536 }, 'Invalid port'],
    [{ port: 8080.5 }, 'Invalid port'],
    [{ strategy: 'Recreate' }, 'Invalid strategy "Recreate"'],
    [{ cluster: 'Prod!' }, 'Invalid cluster'],
    [{ namespace: 'a/b' }, 'Invalid namespace'],
    [
      { namespace: 'kube-system' },
      'Namespace "kube-system" belongs to the cluster itself: services are not deployed to kube-* namespaces',
    ],
    [{ scaleDownDelay: '30 seconds' }, 'Invalid scale-down delay'],
    [{ imageRepository: 'ghcr.io/acme/x:latest' }, 'Invalid image repository'],
    [
      { imageRepository: 'ghcr.io/acme/${{ secrets.X }}' },
      'Invalid image repository',
    ],
    [{ imageRepository: 'orders' }, 'Invalid image repository'],
  ])('refuses %j', (override, message) => {
    expect(() => validateServiceParams({ ...valid, ...override })).toThrow(
      message,
    );
  });

  it('accepts registries with ports and nested paths', () => {
    const params = validateServiceParams({
      ...valid,
      imageRepository: 'registry.local:5000/team/a/orders',
    });
    expect(params.imageRegistry).toBe('registry.local:5000');
  });
});
