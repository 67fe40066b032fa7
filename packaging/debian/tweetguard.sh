#!/bin/sh
# /usr/bin/tweetguard from the .deb: the helper in its own virtualenv, working on the
# machine's shared data folder unless TWEETGUARD_HOME (or --home) says otherwise.
TWEETGUARD_HOME="${TWEETGUARD_HOME:-/var/lib/tweetguard}"
export TWEETGUARD_HOME
exec /opt/tweetguard/bin/tweetguard "$@"
