#!/usr/bin/env bash
# Installs what `npm start`, `npm test` and `npm run build` need and is missing.
#
# Idempotent and quick when everything is present: every step checks first and prints
# one line ("ok ..." or "installing ..."). Needs rustup (stable), Node and npm; uses
# apt-get (through sudo when not root) for the Debian packages. Works without a
# terminal (CI=true, no stdin). The one optional step is the nightly toolchain of the
# package build: if it cannot be installed (offline), setup goes on and says so, and the
# package is built on stable.
#
# Cargo-installed tools go to ${CARGO_HOME:-$HOME/.cargo}/bin; that directory is put
# first on PATH here, and the npm scripts that run after this one do the same.
set -euo pipefail

start=${EPOCHREALTIME/,/.}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WASM_PACK_VERSION=0.15.1
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

say() { printf '%s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

command -v rustup >/dev/null || die "rustup not found on PATH (install it from https://rustup.rs)"
command -v cargo >/dev/null || die "cargo not found on PATH"
command -v npm >/dev/null || die "npm not found on PATH"

# --- Rust target and components -------------------------------------------------------
# (Outputs are captured before grep reads them: with pipefail, `grep -q` closing a pipe
# early could fail the check.)
installed_targets=$(rustup target list --installed)
if grep -qx wasm32-unknown-unknown <<<"$installed_targets"; then
  say "ok rust target wasm32-unknown-unknown"
else
  say "installing rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

installed_components=$(rustup component list --installed)
missing_components=()
for c in rustfmt clippy; do
  grep -q "^$c\(-\|$\)" <<<"$installed_components" || missing_components+=("$c")
done
if ((${#missing_components[@]})); then
  say "installing rust components ${missing_components[*]}"
  rustup component add "${missing_components[@]}"
else
  say "ok rust components rustfmt clippy"
fi

# --- Nightly toolchain of the package build (optional) --------------------------------
# scripts/build-package.mjs builds the shipped wasm on this pinned nightly, std included
# (rust-src; its dist has no prebuilt wasm32 std), when it is installed, and on stable
# otherwise: so a failed install is reported, not fatal. The pin is the build script's.
NIGHTLY=$(sed -nE 's/^const NIGHTLY = "([^"]+)";.*/\1/p' scripts/build-package.mjs)
[[ -n "$NIGHTLY" ]] || die 'cannot find `const NIGHTLY = "..."` in scripts/build-package.mjs'
# RUSTUP_AUTO_INSTALL=0: rustup would otherwise download a toolchain it is asked about.
nightly_components=$(RUSTUP_AUTO_INSTALL=0 rustup component list --installed --toolchain "$NIGHTLY" 2>/dev/null || true)
if grep -qx rust-src <<<"$nightly_components"; then
  say "ok rust $NIGHTLY with rust-src (package build)"
else
  if [[ -n "$nightly_components" ]]; then
    say "installing rust-src for $NIGHTLY (package build)"
    nightly_install=(rustup component add rust-src --toolchain "$NIGHTLY")
  else
    say "installing rust $NIGHTLY with rust-src (package build, a minute)"
    nightly_install=(rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --no-self-update)
  fi
  if ! nightly_log=$("${nightly_install[@]}" </dev/null 2>&1); then
    nightly_error=$(grep -m1 '^error' <<<"$nightly_log" || true)
    say "no rust $NIGHTLY (${nightly_error:-${nightly_install[*]} failed}): the package will be built on stable (larger)"
  fi
fi

# --- Cargo-installed tools --------------------------------------------------------------
# The wasm-bindgen CLI must match the wasm-bindgen crate exactly: take the exact pin from
# Cargo.toml (`wasm-bindgen = "=X"`), else the version resolved in Cargo.lock.
wasm_bindgen_version() {
  local v
  v=$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*(\{[^}]*version[[:space:]]*=[[:space:]]*)?"=([0-9][^"]*)".*/\2/p' Cargo.toml)
  v=${v%%$'\n'*}
  if [[ -z "$v" && -f Cargo.lock ]]; then
    v=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  fi
  [[ -n "$v" ]] || die "cannot find the wasm-bindgen version in Cargo.toml (expected an exact pin like \"=0.2.130\") or Cargo.lock"
  printf '%s\n' "$v"
}
WASM_BINDGEN_VERSION=$(wasm_bindgen_version)

# has_version TOOL VERSION: TOOL is on PATH and `TOOL --version` reports VERSION.
has_version() {
  command -v "$1" >/dev/null 2>&1 || return 1
  local out
  out=$("$1" --version 2>/dev/null) || return 1
  [[ "$out" == "$1 $2" || "$out" == "$1 $2 "* ]]
}

if has_version wasm-pack "$WASM_PACK_VERSION"; then
  say "ok wasm-pack $WASM_PACK_VERSION"
else
  say "installing wasm-pack $WASM_PACK_VERSION (cargo install, a few minutes)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --quiet
  has_version wasm-pack "$WASM_PACK_VERSION" || die "wasm-pack $WASM_PACK_VERSION is still not the one on PATH ($(command -v wasm-pack))"
fi

# wasm-pack runs wasm-bindgen and wasm-bindgen-test-runner from the directory of the
# wasm-bindgen it finds on PATH, provided its version matches Cargo.lock.
bindgen_dir=$(dirname "$(command -v wasm-bindgen 2>/dev/null || echo .)")
if has_version wasm-bindgen "$WASM_BINDGEN_VERSION" && [[ -x "$bindgen_dir/wasm-bindgen-test-runner" ]]; then
  say "ok wasm-bindgen-cli $WASM_BINDGEN_VERSION"
else
  # No --locked: the CLI's own lock file names a crate version the registry lacks.
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (cargo install, a few minutes)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
  has_version wasm-bindgen "$WASM_BINDGEN_VERSION" || die "wasm-bindgen $WASM_BINDGEN_VERSION is still not the one on PATH ($(command -v wasm-bindgen))"
fi

# --- Python packages: definitions -------------------------------------------------------
# The python-socketio server of the end-to-end tests (tests/e2e/support/python/) runs in a
# virtualenv under target/ (ignored by git) holding exactly the pinned requirements; a
# copy of the requirements file in it marks a finished install, so that an interrupted
# one, or a changed file, is done again from scratch.
PY_VENV=target/python-venv
PY_REQUIREMENTS=tests/e2e/support/python/requirements.txt
PY_STAMP=$PY_VENV/requirements.installed
py_ready() {
  [[ -x $PY_VENV/bin/python ]] && cmp -s "$PY_REQUIREMENTS" "$PY_STAMP" && "$PY_VENV/bin/python" -c '' 2>/dev/null
}
# A python3 (3.11 or later, as the pins require) that can make a virtualenv with pip:
# Debian's needs its python3-venv package for that (ensurepip).
venv_python() {
  local py
  for py in python3 /usr/bin/python3; do
    py=$(command -v "$py" 2>/dev/null) || continue
    if "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      printf '%s\n' "$py"
      return 0
    fi
  done
  return 1
}

# --- Debian packages --------------------------------------------------------------------
# The installed version of a Debian package, or nothing (dpkg-query fails when unknown).
deb_version() { { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; } | sed -n 's/^install ok installed //p'; }
apt_missing=()
chromium_version=$(deb_version chromium)
driver_version=$(deb_version chromium-driver)
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver && -n "$chromium_version" && "$chromium_version" == "$driver_version" ]]; then
  say "ok chromium and chromium-driver $chromium_version"
else
  # Installed together so that the driver matches the browser.
  apt_missing+=(chromium chromium-driver)
fi
# The cluster tests start their own redis-server on a loopback port.
if [[ -x /usr/bin/redis-server ]]; then
  say "ok redis-server $(deb_version redis-server)"
else
  apt_missing+=(redis-server)
fi
if ! py_ready && ! venv_python >/dev/null; then
  apt_missing+=(python3 python3-venv)
fi
if ((${#apt_missing[@]})); then
  say "installing ${apt_missing[*]} (apt-get)"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${apt_missing[*]} with apt-get"
    sudo=(sudo --non-interactive)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq </dev/null
  "${sudo[@]}" apt-get install -y -qq "${apt_missing[@]}" </dev/null >/dev/null
  for tool in /usr/bin/chromium /usr/bin/chromedriver /usr/bin/redis-server; do
    [[ -x $tool ]] || die "$tool is still missing after apt-get install ${apt_missing[*]}"
  done
fi

# --- Python packages: install ------------------------------------------------------------
if py_ready; then
  say "ok python packages ($PY_VENV)"
else
  say "installing python packages into $PY_VENV (venv + pip, a few seconds)"
  python=$(venv_python) || die "no python3 >= 3.11 that can make a virtualenv (Debian: apt-get install python3 python3-venv)"
  rm -rf "$PY_VENV"
  "$python" -m venv "$PY_VENV"
  "$PY_VENV/bin/python" -m pip install --quiet --no-input --disable-pip-version-check -r "$PY_REQUIREMENTS" </dev/null >/dev/null
  cp "$PY_REQUIREMENTS" "$PY_STAMP"
  py_ready || die "$PY_VENV is still not ready after the install"
fi

# --- npm packages -----------------------------------------------------------------------
stamp=node_modules/.resocket-setup-stamp
lock=package-lock.json
[[ -f $lock ]] || lock=package.json
if [[ -f $stamp && ! $lock -nt $stamp && ! package.json -nt $stamp ]]; then
  say "ok npm packages"
else
  if [[ -f package-lock.json ]]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error </dev/null >/dev/null
  else
    say "installing npm packages (npm install)"
    npm install --no-audit --no-fund --loglevel=error </dev/null >/dev/null
  fi
  touch "$stamp"
fi

# wasm-opt comes from the npm package `binaryen` (a devDependency), which `npm run
# build` and wasm-pack find first on PATH. Debian 12's binaryen (108) is too old: on the
# output of wasm-bindgen 0.2.130 it points the `__wbindgen_externrefs` export at the
# funcref table, and a module made by wasm-bindgen (the Rust example's) then fails to
# load ("WebAssembly.Table.set(): Argument 1 is invalid for table").
binaryen_version=$(sed -nE 's/^[[:space:]]*"version":[[:space:]]*"([^"]+)".*/\1/p' node_modules/binaryen/package.json 2>/dev/null || true)
binaryen_version=${binaryen_version%%$'\n'*}
[[ -n "$binaryen_version" && -x node_modules/.bin/wasm-opt ]] || die "node_modules/.bin/wasm-opt is missing (npm package binaryen)"
say "ok wasm-opt (npm binaryen $binaryen_version)"

end=${EPOCHREALTIME/,/.}
say "setup done in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
