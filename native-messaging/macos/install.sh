#!/bin/sh
# Installs the tweetguard helper for every user of a Mac (run with sudo), or takes
# it away again. What it does, in order (docs/deploy.md, "macOS"):
#
#   1. a virtualenv in /usr/local/tweetguard with the helper, installed offline from
#      a folder of wheels (made once with `./build.sh package` and `pip download`;
#      docs/deploy.md says how), on a Python 3.11+ the Mac already has;
#   2. the shared data folder /Library/Application Support/tweetguard (readable by
#      everyone, written by IT; teachers' own audit rows go to its audit.d);
#   3. `tweetguard install-host --system --platform macos`: each browser's host
#      manifest in /Library (Brave reads Chrome's folder there), each with its own
#      launcher, all listed in the install record so uninstall removes exactly them;
#   4. /usr/local/bin/tweetguard, a wrapper that works on the shared data folder;
#   5. `tweetguard doctor`, so IT sees every link checked before leaving the Mac.
#
# The browsers' policies (force-install, allow only tweetguard's host) are a
# configuration profile, native-messaging/policies/macos-tweetguard.mobileconfig:
# push it with the school's MDM. macOS no longer installs profiles from a script.
#
#   sudo native-messaging/macos/install.sh --wheels DIR [--python PATH] [--browser NAME]...
#        [--extension-id ID]... [--firefox-id ID] [--data DIR] [--prefix DIR]
#   sudo native-messaging/macos/install.sh --uninstall [--data DIR] [--prefix DIR]
#
# Testing on another OS: --root DIR lays everything out under DIR (content naming
# the final paths) with --use-python PATH, an interpreter that already has
# tweetguard, in place of the virtualenv (tests/test_deploy_recipes.py).
set -eu

PREFIX=/usr/local/tweetguard
DATA="/Library/Application Support/tweetguard"
WHEELS=""
PYTHON="${PYTHON:-}"
USE_PYTHON=""
ROOT=""
UNINSTALL=0
HOST_ARGS=""  # browser names and ids: no spaces in either, so a plain list is safe
WRAPPER_MARK="# tweetguard wrapper (native-messaging/macos/install.sh)"

die() { echo "install.sh: $*" >&2; exit "${EXIT:-1}"; }
usage() { EXIT=64 die "$*; see the top of native-messaging/macos/install.sh for the options"; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then usage "$1 needs a value"; fi; }

while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) need "$@"; WHEELS="$2"; shift 2 ;;
    --python) need "$@"; PYTHON="$2"; shift 2 ;;
    --use-python) need "$@"; USE_PYTHON="$2"; shift 2 ;;
    --data) need "$@"; DATA="$2"; shift 2 ;;
    --prefix) need "$@"; PREFIX="$2"; shift 2 ;;
    --root) need "$@"; ROOT="$2"; shift 2 ;;
    --browser|--extension-id|--firefox-id)
      need "$@"
      case "$2" in *[!A-Za-z0-9@._{}-]*) usage "$1 '$2' has characters no browser or id has" ;; esac
      HOST_ARGS="$HOST_ARGS $1 $2"; shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) usage "unknown option '$1'" ;;
  esac
done

case "$PREFIX$DATA" in *"'"*|*'"'*) usage "--prefix and --data may not contain quotes" ;; esac
if [ -n "$ROOT" ]; then
  [ -n "$USE_PYTHON" ] || usage "--root needs --use-python (a virtualenv cannot be built into another root)"
  ROOT="$(cd "$ROOT" && pwd)" || die "--root $ROOT is not a folder"
elif [ "$(id -u)" != 0 ]; then
  die "run it with sudo: it writes /Library and $PREFIX for every user"
fi

# The interpreter that runs tweetguard now, and the one the launchers name.
if [ -n "$USE_PYTHON" ]; then
  RUN_PY="$USE_PYTHON"
else
  RUN_PY="$PREFIX/bin/python"
fi
LAUNCH_PY="$PREFIX/bin/python"

tg() {
  if [ -n "$ROOT" ]; then
    # shellcheck disable=SC2086  # HOST_ARGS is a list of words without spaces
    "$RUN_PY" -m tweetguard --home "$ROOT$DATA" "$@" --platform macos --root "$ROOT" \
      --target-home "$DATA" --python "$LAUNCH_PY" $HOST_ARGS
  else
    # shellcheck disable=SC2086
    "$RUN_PY" -m tweetguard --home "$DATA" "$@" --platform macos --python "$LAUNCH_PY" $HOST_ARGS
  fi
}

WRAPPER="$ROOT/usr/local/bin/tweetguard"

if [ "$UNINSTALL" = 1 ]; then
  [ -x "$RUN_PY" ] || die "no tweetguard in $PREFIX (nothing to uninstall, or pass --prefix)"
  tg uninstall-host --system
  if [ -f "$WRAPPER" ] && grep -qF "$WRAPPER_MARK" "$WRAPPER"; then
    rm -f "$WRAPPER"
  fi
  [ -n "$ROOT" ] || rm -rf "$PREFIX"
  echo "tweetguard is uninstalled. The school's data in $DATA (register, audit) is kept; delete it when no longer needed."
  exit 0
fi

if [ -z "$USE_PYTHON" ]; then
  [ -n "$WHEELS" ] || usage "--wheels DIR is needed: the folder with tweetguard's wheel and its dependencies' (docs/deploy.md)"
  [ -d "$WHEELS" ] || die "--wheels $WHEELS is not a folder"
  if [ -z "$PYTHON" ]; then
    for candidate in \
      /Library/Frameworks/Python.framework/Versions/3.13/bin/python3 \
      /Library/Frameworks/Python.framework/Versions/3.12/bin/python3 \
      /Library/Frameworks/Python.framework/Versions/3.11/bin/python3 \
      /opt/homebrew/bin/python3 /usr/local/bin/python3 python3; do
      if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON="$candidate"
        break
      fi
    done
  fi
  [ -n "$PYTHON" ] || die "no Python 3.11 or newer found: install it for all users from python.org (the macOS installer), or pass --python PATH"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is older than 3.11: tweetguard needs Python 3.11 or newer (python.org's macOS installer)"
  echo "==> The helper's virtualenv in $PREFIX (offline, from $WHEELS)"
  rm -rf "$PREFIX"
  "$PYTHON" -m venv "$PREFIX"
  "$PREFIX/bin/python" -m pip install --quiet --no-index --disable-pip-version-check \
    --find-links "$WHEELS" tweetguard \
    || die "pip could not install tweetguard from $WHEELS: it needs tweetguard's wheel and every dependency's for this Mac (docs/deploy.md)"
fi

echo "==> The shared data folder $DATA"
mkdir -p "$ROOT$DATA"
chmod 0755 "$ROOT$DATA"
[ -n "$ROOT" ] || chown root:admin "$DATA"

echo "==> Host manifests for every user's browsers"
tg install-host --system

echo "==> $WRAPPER"
mkdir -p "$(dirname "$WRAPPER")"
cat >"$WRAPPER" <<EOF
#!/bin/sh
$WRAPPER_MARK: the helper in its virtualenv, working on
# the Mac's shared data folder unless TWEETGUARD_HOME (or --home) says otherwise.
TWEETGUARD_HOME="\${TWEETGUARD_HOME:-$DATA}"
export TWEETGUARD_HOME
exec '$PREFIX/bin/tweetguard' "\$@"
EOF
chmod 0755 "$WRAPPER"

if [ -z "$ROOT" ]; then
  echo "==> tweetguard doctor"
  "$PREFIX/bin/tweetguard" --home "$DATA" doctor || true
fi
cat <<EOF

tweetguard's helper is installed for every user of this Mac (data: $DATA).
Next: push native-messaging/policies/macos-tweetguard.mobileconfig with your MDM,
then import the register (sudo tweetguard consent import export.xlsx) or enrol
with the school's server (sudo tweetguard enrol https://SERVER --code CODE).
Check any time with: tweetguard doctor
EOF
