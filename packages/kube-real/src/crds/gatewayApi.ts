import { crd, int, list, obj, objectName, open, str } from './schema';

/**
 * The Gateway API's Gateway and HTTPRoute at `gateway.networking.k8s.io/v1`, the version the
 * engine reads and writes. Written for this project from the API's reference (not the upstream
 * CRD files): the fields the engine and the simulated gateway controller use are typed, with the
 * upstream limits and defaults that change what the server stores (a backendRef's `weight`
 * 0..1,000,000 default 1, `kind` Service; a parentRef's group and kind); the rest
 * (matches, filters, listeners' details, timeouts) is kept as sent.
 */

const GROUP = 'gateway.networking.k8s.io';

const parentRef = obj(
  {
    group: str({ default: GROUP, maxLength: 253 }),
    kind: str({ default: 'Gateway', minLength: 1, maxLength: 63 }),
    namespace: str({ minLength: 1, maxLength: 63 }),
    name: objectName(),
    sectionName: str({ minLength: 1, maxLength: 253 }),
    port: int({ minimum: 1, maximum: 65535 }),
  },
  { required: ['name'] },
);

const backendRef = obj(
  {
    // Upstream defaults the group to '' too; a 1.20 server cannot store an empty-string default
    // (it reads it back as null and refuses the CRD), and an absent group means the core group.
    group: str({ maxLength: 253 }),
    kind: str({ default: 'Service', minLength: 1, maxLength: 63 }),
    name: objectName(),
    namespace: str({ minLength: 1, maxLength: 63 }),
    port: int({ minimum: 1, maximum: 65535 }),
    weight: int({ default: 1, minimum: 0, maximum: 1_000_000 }),
    filters: list(open(), { maxItems: 16 }),
  },
  { required: ['name'] },
);

const condition = obj(
  {
    type: str({ maxLength: 316 }),
    status: str({ enum: ['True', 'False', 'Unknown'] }),
    reason: str({ maxLength: 1024 }),
    message: str({ maxLength: 32768 }),
    observedGeneration: int({ minimum: 0 }),
    lastTransitionTime: str({ format: 'date-time' }),
  },
  { required: ['type', 'status'] },
);

export const gatewayCrd = crd({
  group: GROUP,
  version: 'v1',
  kind: 'Gateway',
  plural: 'gateways',
  shortNames: ['gtw'],
  categories: ['gateway-api'],
  spec: obj(
    {
      gatewayClassName: objectName(),
      listeners: list(
        open({
          name: str({ minLength: 1, maxLength: 253 }),
          protocol: str({ minLength: 1, maxLength: 255 }),
          port: int({ minimum: 1, maximum: 65535 }),
          hostname: str(),
        }),
        { minItems: 1, maxItems: 64 },
      ),
      addresses: list(open(), { maxItems: 16 }),
      infrastructure: open(),
    },
    { required: ['gatewayClassName', 'listeners'] },
  ),
  status: obj({
    conditions: list(condition, { maxItems: 8 }),
    addresses: list(open()),
    listeners: list(open()),
  }),
  printerColumns: [
    { name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName' },
    {
      name: 'Programmed',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Programmed")].status',
    },
  ],
});

export const httpRouteCrd = crd({
  group: GROUP,
  version: 'v1',
  kind: 'HTTPRoute',
  plural: 'httproutes',
  categories: ['gateway-api'],
  spec: obj({
    parentRefs: list(parentRef, { maxItems: 32 }),
    hostnames: list(str({ minLength: 1, maxLength: 253 }), { maxItems: 16 }),
    rules: list(
      obj({
        name: str({ minLength: 1, maxLength: 253 }),
        matches: list(open(), { maxItems: 64 }),
        filters: list(open(), { maxItems: 16 }),
        backendRefs: list(backendRef, { maxItems: 16 }),
        timeouts: open(),
        retry: open(),
        sessionPersistence: open(),
      }),
      { maxItems: 16 },
    ),
  }),
  status: obj({
    parents: list(
      obj(
        {
          parentRef,
          controllerName: str({ minLength: 1, maxLength: 253 }),
          conditions: list(condition, { minItems: 1, maxItems: 8 }),
        },
        { required: ['parentRef', 'controllerName'] },
      ),
      { maxItems: 32 },
    ),
  }),
  printerColumns: [
    { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
  ],
});

export const GATEWAY_API_CRDS = [gatewayCrd, httpRouteCrd];
