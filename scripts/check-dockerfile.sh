#!/usr/bin/env bash
# The backend image as far as a machine without a Docker engine can check it:
#   1. lint packages/backend/Dockerfile with dockerfile-utils (the linter of VS Code's Docker
#      extension, from npm; hadolint is in neither Debian nor npm) - a warning fails too;
#   2. build what it copies (`yarn build:backend`, unless --no-build and the bundle exists);
#   3. check that every COPY source exists, that the skeleton and the bundle hold every workspace
#      package the backend depends on (with the app's build and the migrations), and that no
#      secret file or local token went into them.
# Usage: scripts/check-dockerfile.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh

DOCKERFILE=packages/backend/Dockerfile
LINTER_VERSION=0.16.3
LINTER_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/rust-portal-tools/dockerfile-utils-$LINTER_VERSION"
LINTER="$LINTER_DIR/node_modules/.bin/dockerfile-utils"

fail() { echo "check-dockerfile: $*" >&2; exit 1; }

# 1. Lint.
if [ ! -x "$LINTER" ]; then
  mkdir -p "$LINTER_DIR"
  npm install --silent --no-audit --no-fund --prefix "$LINTER_DIR" "dockerfile-utils@$LINTER_VERSION" \
    || fail "could not install dockerfile-utils@$LINTER_VERSION from the npm registry"
fi
lint_output=$("$LINTER" lint "$DOCKERFILE" 2>&1) || fail "dockerfile-utils found errors:
$lint_output"
[ -z "$lint_output" ] || fail "dockerfile-utils found problems:
$lint_output"
echo "check-dockerfile: $DOCKERFILE lints clean (dockerfile-utils $LINTER_VERSION)"

# 2. Build what the Dockerfile copies.
if [ "${1:-}" != "--no-build" ] || [ ! -f packages/backend/dist/bundle.tar.gz ]; then
  yarn tsc
  yarn build:backend
fi

# 3. Contents.
node - "$DOCKERFILE" <<'EOF'
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const [dockerfile] = process.argv.slice(2);
const problems = [];

// Every COPY source exists in the build context (the repository root).
const text = fs.readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ');
for (const line of text.split('\n')) {
  const m = line.match(/^\s*COPY\s+(.*)$/i);
  if (!m) continue;
  const args = m[1].trim().split(/\s+/).filter(a => !a.startsWith('--'));
  for (const source of args.slice(0, -1)) {
    if (!fs.existsSync(source)) problems.push(`COPY source ${source} does not exist`);
  }
}

const list = file => execFileSync('tar', ['tzf', file], { encoding: 'utf8', maxBuffer: 1 << 28 })
  .split('\n').filter(Boolean).map(p => p.replace(/^\.\//, ''));
const skeleton = new Set(list('packages/backend/dist/skeleton.tar.gz'));
const bundle = list('packages/backend/dist/bundle.tar.gz');
const inBundle = new Set(bundle);

// The workspace packages the backend depends on, transitively, by their folders.
const workspaces = execFileSync('yarn', ['workspaces', 'list', '--json'], { encoding: 'utf8' })
  .split('\n').filter(Boolean).map(l => JSON.parse(l));
const folderOf = new Map(workspaces.map(w => [w.name, w.location]));
const needed = new Set();
const visit = folder => {
  if (needed.has(folder)) return;
  needed.add(folder);
  const pkg = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8'));
  // A bundled package (the app) ships its build, not its dependencies.
  if (pkg.bundled) return;
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (folderOf.has(name) && /^(workspace:|link:)/.test(range)) visit(folderOf.get(name));
  }
};
visit('packages/backend');
for (const folder of needed) {
  if (!skeleton.has(`${folder}/package.json`)) problems.push(`skeleton lacks ${folder}/package.json`);
  const pkg = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8'));
  const main = pkg.publishConfig?.main ?? pkg.main;
  if (!pkg.bundled && main && /^dist\//.test(main) && !inBundle.has(`${folder}/${main}`)) {
    problems.push(`bundle lacks ${folder}/${main}`);
  }
  if (fs.existsSync(path.join(folder, 'migrations')) &&
      !bundle.some(p => p.startsWith(`${folder}/migrations/`))) {
    problems.push(`bundle lacks ${folder}/migrations/`);
  }
}
// The app plugin serves the frontend from the app package's build.
if (!inBundle.has('packages/app/dist/index.html')) problems.push('bundle lacks packages/app/dist/index.html');

// Nothing secret or local.
const secretish = /(^|\/)(\.env(\..*)?|.*\.pem|.*\.key|id_rsa.*|ci-token|\.npmrc)$|(^|\/)\.local\//;
for (const p of [...skeleton, ...bundle]) {
  if (secretish.test(p)) problems.push(`${p} would go into the image`);
}
const localToken = '.local/ci-token';
if (fs.existsSync(localToken)) {
  const token = fs.readFileSync(localToken, 'utf8').trim();
  const dir = fs.mkdtempSync('/tmp/check-dockerfile-');
  try {
    execFileSync('tar', ['xzf', 'packages/backend/dist/bundle.tar.gz', '-C', dir]);
    const hits = execFileSync('grep', ['-rlF', token, dir], { encoding: 'utf8' })
      .split('\n').filter(Boolean);
    problems.push(...hits.map(h => `the local CI token is in ${path.relative(dir, h)}`));
  } catch (e) {
    if (e.status !== 1) throw e; // grep: 1 means no match
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (problems.length) {
  console.error(`check-dockerfile: the image would be broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-dockerfile: ${needed.size} workspace packages in the skeleton and bundle (${bundle.length} files), no secret files`);
EOF
