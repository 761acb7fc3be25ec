#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler from Debian's `kubernetes` source
# package (bookworm, 1.20.2, the newest Debian source that still carries the whole tree with vendor/),
# once per machine, into a cache outside the repository keyed by version. Later runs find the
# binaries and exit at once. Needs root for apt-get (or the packages already installed).
#
#   KUBE_REAL_CACHE  cache root (default ~/.cache/rust-delivery-portal/kube-real)
#   KUBE_REAL_JOBS   parallel Go compile jobs (default 2: the machine is shared)
set -euo pipefail

version=v1.20.2
# The build's revision: a change to what is compiled (not only to how) gets a new folder, so that
# binaries of an earlier revision keep working for checkouts that still expect them.
# b3: github.com/modern-go/reflect2 1.0.2 (Debian's) in place of the vendored 1.0.1, which crashes
# the API server under Go >= 1.18 on the first custom resource it decodes.
revision=b3
cache=${KUBE_REAL_CACHE:-$HOME/.cache/rust-delivery-portal/kube-real}
dest="$cache/$version-$revision"
jobs=${KUBE_REAL_JOBS:-2}
components=(kube-apiserver kube-controller-manager kube-scheduler)

step() { echo "kube-real build: $*"; }
fail() { echo "kube-real build FAILED: $*" >&2; exit 1; }

# Built means: all three binaries, stamped with this version (an earlier build may not be; the
# stamp file records the ldflags generation that stamps both version packages), and etcd.
stamp=3
built() {
  [ "$(cat "$dest/bin/.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  for c in "${components[@]}"; do
    [ -x "$dest/bin/$c" ] && "$dest/bin/$c" --version 2>/dev/null | grep -qx "Kubernetes $version" || return 1
  done
  command -v etcd >/dev/null 2>&1
}
if built; then step "already built in $dest/bin"; exit 0; fi

# One build per machine at a time: a second caller waits for the first and then finds the binaries.
mkdir -p "$cache"
exec 9>"$cache/build.lock"
if ! flock -n 9; then
  step "another build is running (lock $cache/build.lock); waiting for it"
  flock 9
  if built; then step "built by the other run in $dest/bin"; exit 0; fi
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else fail "'$*' needs root"; fi; }

need_pkgs=()
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
command -v rsync >/dev/null 2>&1 || need_pkgs+=(rsync)
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v dpkg-source >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl) # the cluster's certificates, at start
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$reflect2/go_above_118.go" ] || need_pkgs+=(golang-github-modern-go-reflect2-dev)

# apt-get source needs a deb-src entry for the same archive as the existing deb822 `Types: deb` one.
src_list=/etc/apt/sources.list.d/kube-real-deb-src.sources
ensure_deb_src() {
  grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null && return 0
  local base
  base=$(grep -ls '^Types: deb$' /etc/apt/sources.list.d/*.sources | head -1) ||
    fail "no deb822 'Types: deb' entry in /etc/apt/sources.list.d to copy a deb-src entry from"
  step "adding deb-src entries ($src_list, copied from $base)"
  sed 's/^Types: deb$/Types: deb-src/' "$base" | as_root tee "$src_list" >/dev/null
  return 1
}
updated=0
if ! ensure_deb_src || [ ${#need_pkgs[@]} -gt 0 ]; then
  step "apt-get update"
  as_root apt-get update -qq || fail "apt-get update"
  updated=1
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "installing ${need_pkgs[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" ||
    fail "apt-get install ${need_pkgs[*]}"
fi

work="$cache/$version-src"
tree="$work/gopath/src/k8s.io/kubernetes"
if [ ! -f "$tree/cmd/kube-apiserver/apiserver.go" ]; then
  step "fetching Debian's kubernetes source package into $work"
  rm -rf "$work" && mkdir -p "$work/apt"
  ( cd "$work/apt" && apt-get source -qq kubernetes ) ||
    { [ $updated = 1 ] || as_root apt-get update -qq; ( cd "$work/apt" && apt-get source -qq kubernetes ); } ||
    fail "apt-get source kubernetes (1.20.2, bookworm)"
  src=$(find "$work/apt" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -1)
  [ -n "$src" ] && [ -d "$src/vendor" ] || fail "the unpacked source in $work/apt has no vendor/ folder"
  # GOPATH mode: the tree's import paths are k8s.io/kubernetes/..., resolved under $GOPATH/src.
  mkdir -p "$(dirname "$tree")"
  ln -s "$src" "$tree"
fi

# The vendored reflect2 1.0.1 links to reflect.mapiterinit with its pre-Go-1.18 signature: built
# with Debian's Go 1.19, the API server dies (fatal signal) when json-iterator sorts the keys of a
# map, which it does for every custom resource's metadata. Debian's 1.0.2 has the Go 1.18 variant.
[ -f "$reflect2/go_above_118.go" ] || fail "$reflect2 (golang-github-modern-go-reflect2-dev) is missing"
if ! diff -qr "$reflect2" "$tree/vendor/github.com/modern-go/reflect2" >/dev/null 2>&1; then
  step "vendor/github.com/modern-go/reflect2: Debian's $(dpkg-query -W -f '${Version}' golang-github-modern-go-reflect2-dev) in place of 1.0.1"
  rm -rf "$tree/vendor/github.com/modern-go/reflect2"
  cp -r "$reflect2" "$tree/vendor/github.com/modern-go/reflect2"
fi

# GOPATH mode takes vendor/ on its own (Go 1.19 with GO111MODULE=off); the Go cache stays in the cache folder.
export GOPATH="$work/gopath" GO111MODULE=off GOFLAGS="" GOCACHE="$cache/go-build"
cd "$tree"

# Generated code: the source package carries every zz_generated deepcopy, defaulter and conversion
# file (468, byte for byte what `make generated_files` writes, but for the `//go:build` line Go 1.19's
# gofmt adds beside the `// +build` one) and the staging OpenAPI files; it lacks only
# pkg/generated/openapi/zz_generated.openapi.go. So only the OpenAPI generator runs (`make
# gen_openapi`: its output is identical to the whole `make generated_files`'s), a few minutes
# instead of about fourteen. A tree whose whole generation ran once (generated.ok) needs neither.
# Without rsync a failed run leaves zero-byte generator binaries behind, which later runs would trust.
find _output -type f -size 0 -delete 2>/dev/null || true
if [ ! -f "$work/generated.ok" ] && [ ! -f "$work/openapi.ok" ]; then
  step "make gen_openapi (a few minutes)"
  start=$SECONDS
  make gen_openapi KUBE_VERBOSE=0 ||
    { find _output -type f -size 0 -delete 2>/dev/null || true; fail "make gen_openapi (log above)"; }
  [ -s pkg/generated/openapi/zz_generated.openapi.go ] || fail "make gen_openapi wrote no pkg/generated/openapi/zz_generated.openapi.go"
  touch "$work/openapi.ok"
  step "OpenAPI definitions generated in $((SECONDS - start)) s"
fi

# As hack/lib/version.sh stamps it: both version packages (the API server's /version reads
# client-go's), under their vendored import paths, which is what GOPATH mode compiles.
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=20 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
# A component of an interrupted run with the same stamp is kept; only a complete set goes to bin/.
[ "$(cat "$dest/bin.tmp/.stamp" 2>/dev/null)" = "$stamp" ] || rm -rf "$dest/bin.tmp"
mkdir -p "$dest/bin.tmp"
echo "$stamp" > "$dest/bin.tmp/.stamp"
for c in "${components[@]}"; do
  [ -s "$dest/bin.tmp/$c" ] && continue
  step "go build ./cmd/$c (-p $jobs)"
  start=$SECONDS
  go build -p "$jobs" -o "$dest/bin.tmp/$c" \
    -ldflags "$ldflags" \
    "./cmd/$c" || fail "go build ./cmd/$c"
  step "$c built in $((SECONDS - start)) s"
done
rm -rf "$dest/bin" && mv "$dest/bin.tmp" "$dest/bin"
command -v etcd >/dev/null 2>&1 || fail "etcd is not on PATH after installing etcd-server"
step "done: $dest/bin ($(ls "$dest/bin" | tr '\n' ' '))"
