"""tweetguard: the local safety helper that checks school posts before they reach X."""

__version__ = "0.1.0"
