import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Seed objects: `demo` (the bundled demo workloads), a path to a multi-document YAML file, or objects. */

// kube-sim always runs from its sources (bin/kube-sim, tests), never from a bundle.
// eslint-disable-next-line no-restricted-syntax
const PACKAGE_DIR = path.resolve(__dirname, '..');

export const DEMO_SEED_PATH = path.join(PACKAGE_DIR, 'seeds', 'demo.yaml');

export function parseManifests(text: string): object[] {
  const out: object[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length)
      throw new Error(`kube-sim: invalid seed YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (!value) continue;
    if (value.kind === 'List' && Array.isArray(value.items))
      out.push(...value.items);
    else out.push(value);
  }
  return out;
}

export function loadSeed(seed: 'demo' | string | object[]): object[] {
  if (Array.isArray(seed)) return seed;
  const file = seed === 'demo' ? DEMO_SEED_PATH : path.resolve(seed);
  return parseManifests(fs.readFileSync(file, 'utf8'));
}
