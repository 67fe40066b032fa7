#!/usr/bin/env bash
# tweetguard's one build script.
#
#   ./build.sh         install the helper into .venv, build the extension into dist/,
#                      register the helper with this machine's browsers
#   ./build.sh test    install what the tests need, then run every check and test
#   ./build.sh package [--crx-key FILE | --no-crx] [--update-url URL] [--xpi-url URL]
#                      every package IT deploys into dist/packages/ (packaging/package.py):
#                      store zip, CRX3 + updates.xml, Firefox .xpi, wheel, .deb
#
# Environment: PYTHON (default python3, 3.11 or newer), TWEETGUARD_HOME (data directory),
# TWEETGUARD_CRX_KEY (the school's CRX signing key, a path outside this repo),
# TWEETGUARD_UPDATE_URL (where the school serves updates.xml),
# TWEETGUARD_CHROMIUM (default /usr/bin/chromium: the browser tests', and the CRX's packer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CHROMIUM="${TWEETGUARD_CHROMIUM:-/usr/bin/chromium}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

make_venv() {
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || die "$python not found; install Python 3.11 or newer"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$python is $("$python" --version 2>&1); tweetguard needs Python 3.11 or newer"
  if [ ! -x "$PY" ]; then
    say "Creating $VENV"
    "$python" -m venv "$VENV"
  fi
  say "Installing the tweetguard helper${1:+ with $1}"
  "$PY" -m pip install --quiet --upgrade pip
  "$PY" -m pip install --quiet -e ".${1:+[$1]}"
}

build_extension() {
  local version
  version="$("$PY" -c 'import tweetguard; print(tweetguard.__version__)')"
  say "Building the extension into dist/ (Chromium family and Firefox)"
  "$PY" extension/build.py dist/extension --zip "dist/tweetguard-extension-$version.zip"
  "$PY" extension/build.py dist/extension-firefox --target firefox \
    --zip "dist/tweetguard-extension-firefox-$version.xpi"
}

install_chromium() {
  [ -x "$CHROMIUM" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ -n "${CI:-}" ]; then
    die "$CHROMIUM is missing and cannot be installed (need root and apt-get); the browser tests must run in CI"
  else
    echo "note: $CHROMIUM is missing; browser tests will be skipped (run as root to install it)" >&2
  fi
}

cmd_build() {
  make_venv server
  build_extension
  say "Registering the helper with this machine's browsers"
  "$VENV/bin/tweetguard" install-host || echo "note: no browser registered; see 'tweetguard install-host --help'" >&2
  local home
  home="$("$PY" -c 'from tweetguard.stores.home import resolve_home; print(resolve_home())')"
  cat <<MSG

tweetguard is built.

  Extension:   $ROOT/dist/extension  (zip: $(ls "$ROOT"/dist/tweetguard-extension-*.zip))
  Firefox:     $ROOT/dist/extension-firefox  (see docs/firefox.md)
  Helper:      $VENV/bin/tweetguard
  Data folder: $home

Next:
  1. Open chrome://extensions, switch on Developer mode, "Load unpacked" and pick
     $ROOT/dist/extension  (its ID is kcenecofiljhmpdkjpenlicjgmahkgic).
  2. Import the consent register:  $VENV/bin/tweetguard consent import export.xlsx  (CSV too)
  3. Try a post:                   $VENV/bin/tweetguard check --text "Well done Sam Smith!"
MSG
}

# The server's tests start a throwaway PostgreSQL cluster (initdb in a temp folder,
# its own port); without PostgreSQL they say so and skip, which CI (root) never does.
install_postgresql() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Installing Debian's postgresql for the server tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  elif [ -n "${CI:-}" ]; then
    die "PostgreSQL is missing and cannot be installed (need root and apt-get); the server tests must run in CI"
  else
    echo "note: PostgreSQL not found; the server's PostgreSQL tests will be skipped (run as root to install it)" >&2
  fi
}

cmd_test() {
  install_chromium
  install_postgresql
  make_venv dev
  build_extension
  say "ruff"
  "$VENV/bin/ruff" check helper tests bench extension/build.py packaging
  "$VENV/bin/ruff" format --check helper tests bench extension/build.py packaging
  say "mypy"
  "$VENV/bin/mypy"
  "$VENV/bin/mypy" --strict packaging
  if command -v node >/dev/null; then
    say "Extension unit tests (node --test)"
    (cd extension && npm ci --no-audit --no-fund --loglevel=error && node --test test/)
  elif [ -n "${CI:-}" ]; then
    die "node is missing; the extension unit tests must run in CI"
  else
    echo "note: node not found; extension unit tests skipped" >&2
  fi
  fill_wheelhouse
  say "pytest"
  "$PY" -m pytest -q "$@"
}

# The .deb ships its dependencies' wheels; the packaging tests build it offline
# from build/wheelhouse, fetched here (pip's cache makes later runs quick).
fill_wheelhouse() {
  command -v dpkg-deb >/dev/null || return 0
  say "Fetching the .deb's dependency wheels into build/wheelhouse"
  "$PY" packaging/package.py --wheelhouse-only >/dev/null && return 0
  [ -n "${CI:-}" ] && die "could not fetch the .deb's wheels into build/wheelhouse; the packaging tests must run in CI"
  echo "note: build/wheelhouse not filled; the .deb tests will be skipped" >&2
}

cmd_package() {
  # The signing key first, before minutes of installing (package.py checks it again).
  case " $* " in
    *" --crx-key"*|*" --no-crx "*) ;;
    *) [ -n "${TWEETGUARD_CRX_KEY:-}" ] || die "no CRX signing key: pass --crx-key FILE or set TWEETGUARD_CRX_KEY=FILE (a PKCS#8 RSA key kept outside this repository), or --no-crx to skip the CRX" ;;
  esac
  # The chromium that packs the CRX, checked as early (package.py uses the same one).
  case " $* " in
    *" --no-crx "*) ;;
    *) command -v "$CHROMIUM" >/dev/null || die "chromium is missing ($CHROMIUM); the CRX is packed by chromium --pack-extension: apt install chromium (or set TWEETGUARD_CHROMIUM, or pass --no-crx)" ;;
  esac
  export TWEETGUARD_CHROMIUM="$CHROMIUM"
  make_venv package
  if command -v node >/dev/null; then
    (cd extension && npm ci --no-audit --no-fund --loglevel=error)
  else
    die "node is missing; the Firefox package is linted with web-ext (install nodejs and npm)"
  fi
  command -v dpkg-deb >/dev/null || die "dpkg-deb is missing; build the packages on Debian or Ubuntu, where dpkg provides it"
  say "Building every package into dist/packages/"
  "$PY" packaging/package.py "$@"
}

case "${1:-build}" in
  build) cmd_build ;;
  test) shift; cmd_test "$@" ;;
  package) shift; cmd_package "$@" ;;
  -h|--help|help) sed -n '2,15p' "$0" ;;
  *) die "unknown command '$1'; use ./build.sh, ./build.sh test or ./build.sh package" ;;
esac
