import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Paths the scaffolder returned that are absolute or climb out of the workspace. */
export function escapingPaths(files: Map<string, string>): string[] {
  return [...files.keys()].filter(
    p =>
      path.isAbsolute(p) ||
      p.includes('\\') ||
      p.split('/').some(seg => seg === '..'),
  );
}

/** YAML files that do not parse cleanly, with the parser's first error. */
export function brokenYaml(files: Map<string, string>): string[] {
  const broken: string[] = [];
  for (const [file, text] of files) {
    if (!/\.ya?ml$/.test(file)) continue;
    const docs = parseAllDocuments(text);
    const errors = (Array.isArray(docs) ? docs : [docs]).flatMap(
      (d: any) => d.errors ?? [],
    );
    if (errors.length) broken.push(`${file}: ${errors[0].message}`);
  }
  return broken;
}

/**
 * TOML files (Cargo.toml) that Python's tomllib refuses: one Python process for many files.
 * Python 3.11+ is a prerequisite of `make test` here; without it this check fails loudly.
 */
export function brokenToml(contents: string[]): string[] {
  if (contents.length === 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-toml-'));
  try {
    contents.forEach((c, i) =>
      fs.writeFileSync(path.join(dir, `${i}.toml`), c),
    );
    const out = execFileSync(
      'python3',
      [
        '-c',
        'import json,sys,tomllib,glob\nbad=[]\nfor f in sorted(glob.glob(sys.argv[1]+"/*.toml")):\n  try: tomllib.loads(open(f,encoding="utf-8").read())\n  except Exception as e: bad.append(f"{f}: {e}")\nprint(json.dumps(bad))',
        dir,
      ],
      { encoding: 'utf8' },
    );
    return JSON.parse(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every GitHub Actions expression (`${{ ... }}`) of a text, in order. */
export function expressions(text: string): string[] {
  return text.match(/\$\{\{[\s\S]*?\}\}/g) ?? [];
}

/** The `run:` scripts of every step of every job of a parsed workflow. */
export function runScripts(workflow: any): string[] {
  return Object.values<any>(workflow?.jobs ?? {}).flatMap(job =>
    (job.steps ?? [])
      .map((s: any) => s.run)
      .filter((r: unknown) => typeof r === 'string'),
  );
}
