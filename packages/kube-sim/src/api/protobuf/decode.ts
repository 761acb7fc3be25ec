import schema from './schema.json';

/**
 * Kubernetes' protobuf request bodies, decoded into the JSON objects kube-sim stores.
 *
 * client-go 1.32 and later force protobuf for every write its generated clients make for built-in
 * kinds (`UseProtobufAsDefault`), whatever the server's discovery says, and fall back to JSON after
 * a 415 only for CBOR. So `kubectl create namespace|configmap|secret|deployment|service|job`,
 * `kubectl expose` and the like can only work against a server that reads protobuf. The wire
 * format is `k8s\0` followed by a `runtime.Unknown` message whose `raw` bytes are the object,
 * encoded with the layout of `k8s.io/api`'s generated.proto files (schema.json, from
 * generateSchema.mjs).
 */

type Field = [
  name: string,
  type: string,
  label: '' | 'r' | 'm',
  omitEmpty: 0 | 1,
];
type MessageSchema = Record<string, Field>;

const MESSAGES = schema.messages as unknown as Record<string, MessageSchema>;
const KINDS = schema.kinds as Record<string, string>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // 'k8s\0'

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export class ProtobufDecodeError extends Error {}

/** Decodes a whole `application/vnd.kubernetes.protobuf` body into a JSON-shaped object. */
export function decodeKubernetesProtobuf(body: Buffer): any {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new ProtobufDecodeError(
      'the body is not a Kubernetes protobuf message (no k8s\\0 prefix)',
    );
  }
  const unknown = readFields(body.subarray(4));
  const typeMeta = readFields(single(unknown, 1) ?? Buffer.alloc(0));
  const apiVersion = str(single(typeMeta, 1));
  const kind = str(single(typeMeta, 2));
  const encoding = str(single(unknown, 3));
  const contentType = str(single(unknown, 4));
  if (encoding) {
    throw new ProtobufDecodeError(`unsupported content encoding ${encoding}`);
  }
  const raw = single(unknown, 2) ?? Buffer.alloc(0);
  if (contentType && !contentType.includes('protobuf')) {
    // runtime.Unknown may wrap JSON as well.
    return JSON.parse(raw.toString('utf8'));
  }
  const message = KINDS[`${apiVersion}/${kind}`];
  if (!message) {
    throw new ProtobufDecodeError(
      `kube-sim cannot decode protobuf for ${apiVersion}, Kind=${kind}`,
    );
  }
  return { apiVersion, kind, ...decodeMessage(message, raw) };
}

// ---- the wire format ----

type WireValue = Buffer | bigint;

/** Reads a message into its fields, each a list of raw values (varints as bigint, others as bytes). */
function readFields(buf: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtobufDecodeError('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  const take = (n: number): Buffer => {
    if (pos + n > buf.length) throw new ProtobufDecodeError('truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    let value: WireValue;
    switch (key & 7) {
      case 0:
        value = varint();
        break;
      case 1:
        value = take(8);
        break;
      case 2:
        value = take(Number(varint()));
        break;
      case 5:
        value = take(4);
        break;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${key & 7}`);
    }
    const list = fields.get(no);
    if (list) list.push(value);
    else fields.set(no, [value]);
  }
  return fields;
}

function single(
  fields: Map<number, WireValue[]>,
  no: number,
): Buffer | undefined {
  const v = fields.get(no)?.at(-1);
  return Buffer.isBuffer(v) ? v : undefined;
}

function str(v: Buffer | undefined): string {
  return v ? v.toString('utf8') : '';
}

// ---- Kubernetes types ----

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** Types whose JSON form is not their protobuf message's shape. */
const SPECIAL: Record<string, (f: Map<number, WireValue[]>) => unknown> = {
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': f =>
    num(f, 1) === 1 ? str(single(f, 3)) : num(f, 2),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': f => str(single(f, 1)),
  [`${META}.Time`]: f => time(f, false),
  [`${META}.MicroTime`]: f => time(f, true),
  [`${META}.Duration`]: f => goDuration(BigInt.asIntN(64, big(f, 1))),
  [`${META}.FieldsV1`]: f => rawJson(single(f, 1)),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': f => rawJson(single(f, 1)),
};

function big(f: Map<number, WireValue[]>, no: number): bigint {
  const v = f.get(no)?.at(-1);
  return typeof v === 'bigint' ? v : 0n;
}

function num(f: Map<number, WireValue[]>, no: number): number {
  return Number(BigInt.asIntN(64, big(f, no)));
}

function time(f: Map<number, WireValue[]>, micro: boolean): string | null {
  const seconds = num(f, 1);
  const nanos = num(f, 2);
  if (seconds === 0 && nanos === 0) return null; // Go's zero time marshals to null
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (!micro) return `${iso}Z`;
  return `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  let rest = ns < 0n ? -ns : ns;
  const h = rest / 3600000000000n;
  rest %= 3600000000000n;
  const m = rest / 60000000000n;
  rest %= 60000000000n;
  const s = Number(rest) / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function rawJson(raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return null;
  return JSON.parse(raw.toString('utf8'));
}

function scalar(type: string, v: WireValue): unknown {
  switch (type) {
    case 'string':
      return (v as Buffer).toString('utf8');
    case 'bytes':
      return (v as Buffer).toString('base64');
    case 'bool':
      return v !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, v as bigint));
    case 'int64':
      return Number(BigInt.asIntN(64, v as bigint));
    case 'uint32':
    case 'uint64':
      return Number(v as bigint);
    case 'double':
      return (v as Buffer).readDoubleLE(0);
    case 'float':
      return (v as Buffer).readFloatLE(0);
    default:
      throw new ProtobufDecodeError(`unsupported protobuf type ${type}`);
  }
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function decodeValue(type: string, v: WireValue): unknown {
  if (MESSAGES[type] || SPECIAL[type]) {
    if (!Buffer.isBuffer(v)) {
      throw new ProtobufDecodeError(`expected a message of type ${type}`);
    }
    return decodeMessage(type, v);
  }
  return scalar(type, v);
}

function decodeMessage(type: string, buf: Buffer): any {
  const fields = readFields(buf);
  const special = SPECIAL[type];
  if (special) return special(fields);
  const layout = MESSAGES[type];
  if (!layout)
    throw new ProtobufDecodeError(`unknown protobuf message ${type}`);
  const out: Record<string, unknown> = {};
  for (const [no, values] of fields) {
    const field = layout[no];
    if (!field) continue; // a field newer than the schema: ignored, as an older server would
    const [name, fieldType, label, omitEmpty] = field;
    if (label === 'm') {
      const map: Record<string, unknown> = {};
      for (const entry of values as Buffer[]) {
        const e = readFields(entry);
        const key = str(single(e, 1));
        const value = e.get(2)?.at(-1);
        map[key] =
          value === undefined
            ? defaultOf(fieldType)
            : decodeValue(fieldType, value);
      }
      out[name] = map;
    } else if (label === 'r') {
      out[name] = values.flatMap(v =>
        // proto2 packs no repeated scalars in k8s, but accept packed varints anyway.
        Buffer.isBuffer(v) && /int|bool/.test(fieldType)
          ? [...readPacked(v)].map(x => scalar(fieldType, x))
          : [decodeValue(fieldType, v)],
      );
    } else {
      const value = decodeValue(fieldType, values[values.length - 1]);
      if (omitEmpty && isEmpty(value)) continue;
      // An embedded Go struct (`json:",inline"`): its fields are the parent's in JSON.
      if (name === '') Object.assign(out, value);
      else out[name] = value;
    }
  }
  return out;
}

function defaultOf(type: string): unknown {
  if (type === 'string') return '';
  if (type === 'bytes') return '';
  if (MESSAGES[type]) return {};
  return scalar(type, 0n);
}

function* readPacked(buf: Buffer): Generator<bigint> {
  let pos = 0;
  while (pos < buf.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
    }
    yield result;
  }
}
