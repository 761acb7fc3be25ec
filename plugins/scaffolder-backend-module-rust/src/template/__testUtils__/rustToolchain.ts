import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolvePackagePath(
  '@rust-delivery-portal/plugin-scaffolder-backend-module-rust',
  '../..',
);

/** Crates the generated service depends on (Cargo.toml), for the offline registry. */
export const SERVICE_CRATES = [
  'axum',
  'tokio',
  'tower',
  'tower-http',
  'tracing',
  'tracing-subscriber',
  'serde',
  'serde_json',
  'prometheus',
  'thiserror',
  'http-body-util',
];

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Where `offline-crates` lives: `shared/` sits beside the repository (its clone or worktree; in CI
 * the repository is cloned elsewhere with shared/ next to it). Never a machine path.
 */
export function findOfflineCrates(): string {
  const gitRoot = run('git', ['rev-parse', '--show-toplevel'], {
    cwd: REPO_ROOT,
  }).stdout?.trim();
  const candidates = [
    gitRoot && path.join(gitRoot, '..', 'shared', 'tools', 'offline-crates'),
    path.join(REPO_ROOT, '..', 'shared', 'tools', 'offline-crates'),
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find(candidate => fs.existsSync(candidate));
  if (!found) {
    throw new Error(
      `offline-crates not found (looked at ${candidates.join(
        ', ',
      )}): it builds the Cargo registry this check needs without crates.io`,
    );
  }
  return found;
}

/**
 * Builds (or refreshes) the offline registry under `.cache/crates` and returns the path of its
 * cargo config file.
 */
export function prepareOfflineRegistry(): string {
  const dest = path.join(REPO_ROOT, '.cache', 'crates');
  const result = run(findOfflineCrates(), [dest, ...SERVICE_CRATES]);
  if (result.status !== 0) {
    throw new Error(
      `offline-crates failed (${result.status}):\n${result.stderr}`,
    );
  }
  return path.join(dest, 'cargo-config.toml');
}

/**
 * The rustup toolchain to run: the one pinned in rust-toolchain.toml when installed (or
 * installable), else an installed toolchain of exactly that version (e.g. `stable`).
 */
export function resolveToolchain(channel: string): string {
  if (run('cargo', ['--version']).error) {
    throw new Error(
      'cargo is not installed: install Rust with rustup (https://rustup.rs) to run this check',
    );
  }
  const version = (toolchain: string) =>
    run('rustc', ['--version'], { env: { RUSTUP_TOOLCHAIN: toolchain } })
      .stdout ?? '';
  if (version(channel).startsWith(`rustc ${channel} `)) return channel;
  for (const installed of ['stable', ...listToolchains()]) {
    if (version(installed).startsWith(`rustc ${channel} `)) return installed;
  }
  const install = run('rustup', [
    'toolchain',
    'install',
    channel,
    '--profile',
    'minimal',
    '-c',
    'rustfmt,clippy',
  ]);
  if (install.status === 0) return channel;
  throw new Error(
    `Rust ${channel} (rust-toolchain.toml) is not installed and rustup could not install it:\n${install.stderr}`,
  );
}

function listToolchains(): string[] {
  return (run('rustup', ['toolchain', 'list']).stdout ?? '')
    .split('\n')
    .map(line => line.split(/\s+/)[0])
    .filter(Boolean);
}
