"""`python -m tweetguard` is what the native-messaging launcher runs."""

from tweetguard.cli import main

raise SystemExit(main())
