#!/usr/bin/env node
// Writes schema.json: the protobuf wire layout (field numbers, JSON names, types) of the kinds
// kube-sim serves, read from the Kubernetes API definitions, so that protobuf request bodies
// (what kubectl's typed commands send) can be turned back into the JSON objects kube-sim stores.
//
//   node generateSchema.mjs K8S_IO_API_DIR K8S_IO_APIMACHINERY_DIR > schema.json
//
// The two folders are checkouts of github.com/kubernetes/api and .../apimachinery at the tag that
// matches the kubectl in use (v0.32.4 for kubectl 1.32). The .proto files give the field numbers
// and types; the Go types beside them say which scalar fields are plain values with `omitempty`
// (Go writes them to protobuf even when empty, but never to JSON) and which are pointers (kept).
import fs from 'node:fs';
import path from 'node:path';

const [apiDir, machineryDir] = process.argv.slice(2);
if (!apiDir || !machineryDir) {
  console.error(
    'usage: generateSchema.mjs K8S_IO_API_DIR K8S_IO_APIMACHINERY_DIR',
  );
  process.exit(2);
}

// Top-level kinds: what kube-sim serves, plus the bodies typed clients send alongside them.
const ROOTS = {
  v1: [
    'k8s.io.api.core.v1',
    [
      'Namespace',
      'Node',
      'Pod',
      'Service',
      'Endpoints',
      'ConfigMap',
      'Secret',
      'Event',
      'ServiceAccount',
      'LimitRange',
      'ResourceQuota',
      'PersistentVolumeClaim',
      'PersistentVolume',
      'Binding',
    ],
  ],
  'apps/v1': [
    'k8s.io.api.apps.v1',
    [
      'Deployment',
      'ReplicaSet',
      'StatefulSet',
      'DaemonSet',
      'ControllerRevision',
    ],
  ],
  'batch/v1': ['k8s.io.api.batch.v1', ['Job', 'CronJob']],
  'networking.k8s.io/v1': ['k8s.io.api.networking.v1', ['Ingress']],
  'autoscaling/v1': [
    'k8s.io.api.autoscaling.v1',
    ['HorizontalPodAutoscaler', 'Scale'],
  ],
  'autoscaling/v2': ['k8s.io.api.autoscaling.v2', ['HorizontalPodAutoscaler']],
  'discovery.k8s.io/v1': ['k8s.io.api.discovery.v1', ['EndpointSlice']],
  'policy/v1': ['k8s.io.api.policy.v1', ['PodDisruptionBudget', 'Eviction']],
  'meta.k8s.io/v1': ['k8s.io.apimachinery.pkg.apis.meta.v1', ['DeleteOptions']],
};

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const files = [...walk(apiDir), ...walk(machineryDir)];
const messages = new Map(); // full name -> { fields: [[no, name, type, label]] }
const goFields = new Map(); // `${goPackageDir}.${Struct}` -> Map(no -> { json, omitEmpty })

for (const file of files.filter(f => f.endsWith('generated.proto'))) {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '');
  const pkg = /^package\s+([\w.]+);/m.exec(text)[1];
  const re = /message\s+(\w+)\s*\{([^{}]*)\}/g;
  for (const m of text.matchAll(re)) {
    const fields = [];
    for (const line of m[2].split(';')) {
      const t = line.trim();
      if (!t) continue;
      const f =
        /^(optional|repeated)\s+([.\w]+)\s+(\w+)\s*=\s*(\d+)$/.exec(t) ??
        /^(map)<\s*(\w+)\s*,\s*([.\w]+)\s*>\s+(\w+)\s*=\s*(\d+)$/.exec(t);
      if (!f) throw new Error(`${file}: cannot parse field "${t}" of ${m[1]}`);
      if (f[1] === 'map')
        fields.push({
          label: 'map',
          key: f[2],
          type: resolve(f[3], pkg),
          name: f[4],
          no: +f[5],
        });
      else
        fields.push({
          label: f[1],
          type: resolve(f[2], pkg),
          name: f[3],
          no: +f[4],
        });
    }
    messages.set(`${pkg}.${m[1]}`, { pkg, fields, file });
  }
}

function resolve(type, pkg) {
  if (type.startsWith('.')) return type.slice(1);
  if (
    /^(string|bytes|bool|int32|int64|uint32|uint64|double|float|sint32|sint64|fixed32|fixed64)$/.test(
      type,
    )
  )
    return type;
  return `${pkg}.${type}`;
}

// Go struct fields with protobuf tags: JSON name, and whether an empty value is dropped from JSON.
for (const file of files.filter(
  f => f.endsWith('.go') && !f.endsWith('_test.go'),
)) {
  const text = fs.readFileSync(file, 'utf8');
  const dir = path.dirname(file);
  const re = /^type\s+(\w+)\s+struct\s*\{([\s\S]*?)^\}/gm;
  for (const m of text.matchAll(re)) {
    const byNo = new Map();
    for (const line of m[2].split('\n')) {
      // `Name Type \`json:... protobuf:...\`` or an embedded `Type \`json:",inline" ...\``
      const f =
        /^\s*(?:\w+\s+)?(\S+)\s+`json:"([^"]*)"\s+protobuf:"[a-z0-9]+,(\d+)[,"]/.exec(
          line,
        );
      if (!f) continue;
      const [jsonName, ...opts] = f[2].split(',');
      const goType = f[1];
      byNo.set(+f[3], {
        json: opts.includes('inline') ? '' : jsonName, // '': its fields belong to the parent
        omitEmpty: opts.includes('omitempty') && !goType.startsWith('*'),
      });
    }
    if (byNo.size) goFields.set(`${dir}.${m[1]}`, byNo);
  }
}

const used = new Map();
function visit(name) {
  if (used.has(name) || !messages.has(name)) return;
  const msg = messages.get(name);
  const go = goFields.get(`${path.dirname(msg.file)}.${name.split('.').pop()}`);
  const out = {};
  used.set(name, out);
  for (const f of msg.fields) {
    const g = go?.get(f.no);
    // [json name ('' = inline), type, 'r' repeated | 'm' map | '', 1 when an empty scalar is left out of JSON]
    out[f.no] = [
      g ? g.json : f.name,
      f.type,
      { repeated: 'r', map: 'm' }[f.label] ?? '',
      g?.omitEmpty ? 1 : 0,
    ];
    visit(f.type);
  }
}

const kinds = {};
for (const [apiVersion, [pkg, names]] of Object.entries(ROOTS)) {
  for (const kind of names) {
    const full = `${pkg}.${kind}`;
    if (!messages.has(full)) throw new Error(`no message ${full}`);
    kinds[`${apiVersion}/${kind}`] = full;
    visit(full);
  }
}
// meta/v1 DeleteOptions is also sent as a v1 (core) kind.
kinds['v1/DeleteOptions'] =
  'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';

const sorted = Object.fromEntries(
  [...used.entries()].sort(([a], [b]) => a.localeCompare(b)),
);
process.stdout.write(
  `${JSON.stringify({
    source: 'k8s.io/api and k8s.io/apimachinery v0.32.4',
    kinds,
    messages: sorted,
  })}\n`,
);
