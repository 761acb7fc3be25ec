import fs from 'node:fs';
import path from 'node:path';
import { licenseAllowed, parseToml } from './__testUtils__/artifactChecks';
import { startScaffolder, writeFiles } from './__testUtils__/dryRun';
import {
  prepareOfflineRegistry,
  REPO_ROOT,
  resolveToolchain,
  run,
} from './__testUtils__/rustToolchain';

// A real Rust build: the first run fetches Debian's crates and compiles the dependencies
// (about two minutes on two cores); later runs reuse .cache/crates and .cache/cargo-target.
jest.setTimeout(15 * 60_000);

// The longest allowed name, with dashes: checks the crate name and rustfmt's line widths too.
const NAME = 'order-fulfilment-and-reservations-api-v2';

describe('the generated service builds for real', () => {
  const projectDir = path.join(REPO_ROOT, '.cache', 'template-build', NAME);
  let cargoConfig: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const scaffolder = await startScaffolder();
    try {
      const result = await scaffolder.dryRun({
        name: NAME,
        description: 'Reserves stock for "orders" \\ and ships them',
        owner: 'group:default/team-a',
        port: 8080,
        strategy: 'Canary',
        canarySteps: [20, 50],
        cluster: 'local',
        namespace: 'default',
        target: 'local',
      });
      if (result.status !== 200) {
        throw new Error(`dry run failed: ${JSON.stringify(result.body)}`);
      }
      writeFiles(result.files, projectDir);
    } finally {
      await scaffolder.stop();
    }
    cargoConfig = prepareOfflineRegistry();
    const channel = /channel\s*=\s*"([^"]+)"/.exec(
      fs.readFileSync(path.join(projectDir, 'rust-toolchain.toml'), 'utf8'),
    )![1];
    env = {
      RUSTUP_TOOLCHAIN: resolveToolchain(channel),
      CARGO_TARGET_DIR: path.join(REPO_ROOT, '.cache', 'cargo-target'),
      CARGO_TERM_COLOR: 'never',
    };
  });

  const cargo = (...args: string[]) => {
    const result = run('cargo', args, { cwd: projectDir, env });
    if (result.status !== 0) {
      throw new Error(
        `cargo ${args.join(' ')} failed (${result.status}):\n${
          result.stdout
        }\n${result.stderr}`,
      );
    }
    return `${result.stdout}\n${result.stderr}`;
  };

  it("ships only crates under a license of deny.toml's allow-list (Linux targets, no dev-dependencies)", () => {
    const result = run(
      'cargo',
      [
        'metadata',
        '--format-version',
        '1',
        '--filter-platform',
        'x86_64-unknown-linux-gnu',
        '--offline',
        '--config',
        cargoConfig,
      ],
      { cwd: projectDir, env },
    );
    expect(result.status).toBe(0);
    const metadata = JSON.parse(result.stdout);
    const allowed: string[] = parseToml(
      fs.readFileSync(path.join(projectDir, 'deny.toml'), 'utf8'),
    ).licenses.allow;
    // What the service ships: the crates reached from it through normal and build dependencies.
    const nodes = new Map<string, any>(
      metadata.resolve.nodes.map((n: any) => [n.id, n]),
    );
    const shipped = new Set<string>();
    const visit = (id: string) => {
      if (shipped.has(id)) return;
      shipped.add(id);
      for (const dep of nodes.get(id).deps) {
        if (dep.dep_kinds.some((k: any) => k.kind !== 'dev')) visit(dep.pkg);
      }
    };
    visit(metadata.resolve.root);
    const packages = metadata.packages.filter(
      (p: any) => shipped.has(p.id) && p.source,
    );
    expect(packages.length).toBeGreaterThan(30);
    expect(
      packages
        .filter((p: any) => !licenseAllowed(p.license ?? '', allowed))
        .map((p: any) => `${p.name} ${p.version}: ${p.license}`),
    ).toEqual([]);
  });

  it('is formatted (cargo fmt --check)', () => {
    expect(() => cargo('fmt', '--check')).not.toThrow();
  });

  it('passes its tests (cargo test)', () => {
    const output = cargo('test', '--config', cargoConfig);
    expect(output).toMatch(/test healthz_answers_ok \.\.\. ok/);
    expect(output).toMatch(
      /test config::tests::refuses_a_bad_port_with_a_clear_message \.\.\. ok/,
    );
    expect(output).toMatch(
      /test serves_and_stops_gracefully_on_sigterm \.\.\. ok/,
    );
    expect(output).toMatch(
      /test refuses_bad_configuration_with_a_log_line_instead_of_a_panic \.\.\. ok/,
    );
    expect(output).not.toMatch(/test result: FAILED/);
  });

  it('has no clippy warnings (cargo clippy --all-targets -- -D warnings)', () => {
    // --config after the subcommand: cargo-clippy re-invokes cargo and keeps only its own arguments.
    expect(() =>
      cargo(
        'clippy',
        '--config',
        cargoConfig,
        '--all-targets',
        '--',
        '-D',
        'warnings',
      ),
    ).not.toThrow();
  });
});
