import { decodeKubernetesProtobuf } from './decode';

// A minimal protobuf writer, enough to build the bodies client-go sends.
const varint = (n: number | bigint): Buffer => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
};
const num = (no: number, n: number | bigint) =>
  Buffer.concat([varint(no << 3), varint(n)]);
const bytes = (no: number, b: Buffer | string) => {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
  return Buffer.concat([varint((no << 3) | 2), varint(buf.length), buf]);
};
const msg = (no: number, ...parts: Buffer[]) => bytes(no, Buffer.concat(parts));
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    msg(1, bytes(1, apiVersion), bytes(2, kind)),
    bytes(2, raw),
    bytes(3, ''),
    bytes(4, ''),
  ]);

describe('decodeKubernetesProtobuf', () => {
  it('decodes a Deployment as Go marshals it: empty plain fields dropped, zero pointers kept', () => {
    const objectMeta = Buffer.concat([
      bytes(1, 'web'), // name
      bytes(2, ''), // generateName, written although empty
      bytes(3, 'default'),
      num(7, 0), // generation
      msg(8), // creationTimestamp: zero time
      msg(11, bytes(1, 'app'), bytes(2, 'web')), // labels entry
    ]);
    const container = Buffer.concat([
      bytes(1, 'web'),
      bytes(2, 'nginx:1.27'),
      msg(6, bytes(1, ''), num(3, 8080), bytes(4, 'TCP')), // ports[0]
      msg(
        8, // resources
        msg(2, bytes(1, 'cpu'), msg(2, bytes(1, '250m'))), // requests entry
      ),
      msg(
        11, // readinessProbe
        msg(
          1,
          msg(2, bytes(1, '/readyz'), msg(2, num(1, 1), bytes(3, 'http'))),
        ),
        num(2, 0), // initialDelaySeconds
      ),
    ]);
    const deployment = Buffer.concat([
      msg(1, objectMeta),
      msg(
        2, // spec
        num(1, 0), // replicas: *int32 = 0
        msg(2, msg(1, bytes(1, 'app'), bytes(2, 'web'))),
        msg(
          3,
          msg(1, msg(11, bytes(1, 'app'), bytes(2, 'web'))),
          msg(2, msg(2, container)),
        ),
        msg(
          4, // strategy
          bytes(1, 'RollingUpdate'),
          msg(
            2,
            msg(1, num(1, 0), num(2, 0)),
            msg(2, num(1, 1), bytes(3, '25%')),
          ),
        ),
        num(5, 0), // minReadySeconds: plain int32, dropped
        num(6, -1), // revisionHistoryLimit (negative int32 on ten bytes)
      ),
    ]);
    expect(
      decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', deployment)),
    ).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'default',
        creationTimestamp: null,
        labels: { app: 'web' },
      },
      spec: {
        replicas: 0,
        revisionHistoryLimit: -1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:1.27',
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: { requests: { cpu: '250m' } },
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'http' },
                },
              },
            ],
          },
        },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
        },
      },
    });
  });

  it('decodes bytes as base64 and times as RFC 3339', () => {
    const secret = Buffer.concat([
      msg(1, bytes(1, 'creds'), msg(8, num(1, 1700000000))),
      msg(2, bytes(1, 'password'), bytes(2, Buffer.from([0, 255, 1]))),
      bytes(3, 'Opaque'),
    ]);
    expect(decodeKubernetesProtobuf(envelope('v1', 'Secret', secret))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', creationTimestamp: '2023-11-14T22:13:20Z' },
      data: { password: 'AP8B' },
      type: 'Opaque',
    });
  });

  it('refuses what it cannot read', () => {
    expect(() => decodeKubernetesProtobuf(Buffer.from('{}'))).toThrow(
      /no k8s\\0 prefix/,
    );
    expect(() =>
      decodeKubernetesProtobuf(
        envelope('rbac.authorization.k8s.io/v1', 'Role', Buffer.alloc(0)),
      ),
    ).toThrow(
      /cannot decode protobuf for rbac.authorization.k8s.io\/v1, Kind=Role/,
    );
  });
});
