// Applies one README install step to an app folder, as a person following the README would:
// run the commands, merge the JSON or YAML, insert the snippet where the README says, add the
// imports a file lacks. A step whose anchor is not found fails: the README is wrong for that app.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

function deepMergeJson(target, source) {
  for (const [key, value] of Object.entries(source)) {
    if (value && typeof value === 'object' && !Array.isArray(value) && target[key] && typeof target[key] === 'object') {
      deepMergeJson(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

/** Merges YAML into a document keeping its comments: maps merge, lists get the new items appended. */
function mergeYamlNode(doc, path, value) {
  const existing = doc.getIn(path, true);
  if (YAML.isMap(existing) && value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) mergeYamlNode(doc, [...path, k], v);
  } else if (YAML.isSeq(existing) && Array.isArray(value)) {
    for (const item of value) existing.add(doc.createNode(item));
  } else {
    doc.setIn(path, doc.createNode(value));
  }
}

function insert(file, body, mode, anchors) {
  const text = readFileSync(file, 'utf8');
  let at = 0;
  for (const anchor of anchors) {
    const found = text.indexOf(anchor, at);
    if (found < 0) throw new Error(`${file}: anchor "${anchor}" not found (after offset ${at})`);
    at = found + (mode === 'after' ? anchor.length : 0);
  }
  let cut;
  if (mode === 'before') {
    cut = text.lastIndexOf('\n', at) + 1; // the start of the anchor's line
  } else {
    const eol = text.indexOf('\n', at);
    cut = eol < 0 ? text.length : eol + 1; // the end of the last anchor's line
  }
  writeFileSync(file, `${text.slice(0, cut)}${body}\n${text.slice(cut)}`);
}

const IMPORT = /import\s*\{([^}]*)\}\s*from\s*'([^']+)';/g;
const names = list => list.split(',').map(n => n.trim()).filter(Boolean);

/** Adds the named imports of `body` that `file` does not import yet from the same module. */
function addImports(file, body) {
  let text = readFileSync(file, 'utf8');
  const have = new Map();
  for (const [, list, from] of text.matchAll(IMPORT)) {
    for (const n of names(list)) have.set(`${from}#${n}`, true);
  }
  const added = [];
  for (const [, list, from] of body.matchAll(IMPORT)) {
    const missing = names(list).filter(n => !have.has(`${from}#${n}`));
    if (missing.length) added.push(`import { ${missing.join(', ')} } from '${from}';`);
  }
  if (added.length) text = `${added.join('\n')}\n${text}`;
  writeFileSync(file, text);
  return added;
}

/**
 * Applies `step` in `appDir`. `appPackage` is the frontend package the step is for
 * (`packages/app`, or `packages/app-legacy` for the legacy app): paths and commands that name
 * `packages/app` are pointed at it.
 */
export function applyStep(step, { appDir, appPackage = 'packages/app', env, log }) {
  const retarget = s => s.replace(/packages\/app(?=[/\s]|$)/g, appPackage);
  const args = step.args.map(retarget);
  const file = args[0] && join(appDir, args[0]);
  switch (step.action) {
    case 'run': {
      const script = retarget(step.body);
      log(`$ ${script}`);
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: appDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
      return;
    }
    case 'merge-json':
      writeFileSync(file, `${JSON.stringify(deepMergeJson(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(step.body)), null, 2)}\n`);
      log(`merged into ${args[0]}`);
      return;
    case 'merge-yaml': {
      const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
      const value = YAML.parse(step.body);
      for (const [k, v] of Object.entries(value)) mergeYamlNode(doc, [k], v);
      writeFileSync(file, doc.toString());
      log(`merged into ${args[0]}`);
      return;
    }
    case 'insert': {
      const [, mode, ...anchors] = args;
      if (mode !== 'before' && mode !== 'after') throw new Error(`insert: "${mode}" is neither before nor after`);
      insert(file, retarget(step.body), mode, anchors);
      log(`inserted into ${args[0]} ${mode} ${anchors.map(a => `"${a}"`).join(' ')}`);
      return;
    }
    case 'imports':
      log(`imports of ${args[0]}: ${addImports(file, step.body).join(' ') || 'all present'}`);
      return;
    default:
      throw new Error(`unknown install step "${step.action}" (${step.marker})`);
  }
}
