// The README is the install script: its steps are the fenced blocks marked with
// `<!-- install-step: ACTION ARGS... [for=new|legacy|new,legacy] -->` just above them. This module
// reads them; run.mjs applies them to a fresh app in document order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The fence may be indented (a block inside a list item): its lines lose that indentation.
const MARKED_BLOCK = /<!-- install-step: (.*?) -->[ \t]*\n([ \t]*)```[a-z]*\n([\s\S]*?)\n[ \t]*```/g;

/** Splits `insert file after "a b" "c"` into words, keeping quoted strings whole. */
function words(text) {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map(m => m[1] ?? m[2]);
}

/** Every marked step of a Markdown file: { action, args, for: ['new'|'legacy'] | undefined, body, marker }. */
export function readSteps(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(MARKED_BLOCK)].map(([, marker, indent, indented]) => {
    const body = indented
      .split('\n')
      .map(line => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
      .join('\n');
    const parts = words(marker);
    const forArg = parts.find(p => p.startsWith('for='));
    return {
      marker,
      action: parts[0],
      args: parts.slice(1).filter(p => p !== forArg),
      for: forArg ? forArg.slice(4).split(',') : undefined,
      body,
      file,
    };
  });
}

/** The plugin READMEs whose install steps the root README repeats. */
export const PLUGIN_READMES = [
  'plugins/rollouts/README.md',
  'plugins/rollouts-backend/README.md',
  'plugins/scaffolder-backend-module-rust/README.md',
];

/**
 * The root README's steps, after checking that every marked step of a plugin README is one of them
 * word for word (so the plugin READMEs and the root README cannot drift apart).
 */
export function installSteps(repoRoot) {
  const steps = readSteps(join(repoRoot, 'README.md'));
  if (steps.length === 0) throw new Error('README.md has no <!-- install-step: ... --> blocks');
  const known = new Set(steps.map(s => `${s.marker}\n${s.body}`));
  const drifted = [];
  for (const readme of PLUGIN_READMES) {
    const own = readSteps(join(repoRoot, readme));
    if (own.length === 0) drifted.push(`${readme}: no marked install step`);
    for (const s of own) {
      if (!known.has(`${s.marker}\n${s.body}`)) {
        drifted.push(`${readme}: the step "${s.marker}" is not in README.md's "Install into your Backstage" as written`);
      }
    }
  }
  if (drifted.length) throw new Error(`install steps drifted:\n  ${drifted.join('\n  ')}`);
  return steps;
}
