#!/bin/sh
# Installs the tweetguard helper for every user of a Linux machine (run as root).
#
#   sudo native-messaging/install-linux-system.sh [DATA_DIR]
#
# The helper goes into /opt/tweetguard (its own virtualenv), the shared data
# directory into DATA_DIR (default /var/lib/tweetguard), and the host manifest
# into each installed browser's system folder. Then copy a policy file from
# native-messaging/policies/ to force-install the extension.
set -eu
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
SRC="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${1:-/var/lib/tweetguard}"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "needs Python 3.11+" >&2; exit 1; }
python3 -m venv /opt/tweetguard
/opt/tweetguard/bin/pip install --quiet "$SRC"
mkdir -p "$DATA"
chmod 0755 "$DATA"
/opt/tweetguard/bin/tweetguard --home "$DATA" install-host --system
echo "Import the register with: /opt/tweetguard/bin/tweetguard --home $DATA consent import FILE.csv"
