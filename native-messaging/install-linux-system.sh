#!/bin/sh
# Installs the tweetguard helper for every user of a Linux machine (run as root).
#
#   sudo native-messaging/install-linux-system.sh [DATA_DIR]
#   sudo native-messaging/install-linux-system.sh --uninstall [DATA_DIR]
#
# The helper goes into /opt/tweetguard (its own virtualenv; TWEETGUARD_PREFIX), the shared data
# directory into DATA_DIR (default /var/lib/tweetguard), and the host manifests
# into the system folder of each browser found (or of those named in
# TWEETGUARD_BROWSERS, e.g. TWEETGUARD_BROWSERS="chrome firefox"), each with its
# own launcher in DATA_DIR/native-host/. What was written is listed in
# DATA_DIR/native-host/installed.json; --uninstall removes exactly that (the data
# directory, with the register and the audit, stays). Then copy a policy file
# from native-messaging/policies/ to force-install the extension.
set -eu
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
UNINSTALL=no
if [ "${1:-}" = "--uninstall" ]; then UNINSTALL=yes; shift; fi
SRC="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-/var/lib/tweetguard}"
PREFIX="${TWEETGUARD_PREFIX:-/opt/tweetguard}"  # where the helper's virtualenv goes
BROWSER_ARGS=""
for b in ${TWEETGUARD_BROWSERS:-}; do BROWSER_ARGS="$BROWSER_ARGS --browser $b"; done
if [ "$UNINSTALL" = yes ]; then
  # shellcheck disable=SC2086  # one word per browser option
  "$PREFIX/bin/tweetguard" --home "$DATA" uninstall-host --system $BROWSER_ARGS
  exit 0
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "needs Python 3.11+" >&2; exit 1; }
python3 -m venv "$PREFIX"
"$PREFIX/bin/pip" install --quiet "$SRC"
mkdir -p "$DATA"
chmod 0755 "$DATA"
# shellcheck disable=SC2086  # one word per browser option
"$PREFIX/bin/tweetguard" --home "$DATA" install-host --system --python "$PREFIX/bin/python" $BROWSER_ARGS
echo "Import the register with: $PREFIX/bin/tweetguard --home $DATA consent import FILE.csv"
echo "Check every link with:   $PREFIX/bin/tweetguard --home $DATA doctor"
