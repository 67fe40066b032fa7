"""The X API v2, for what only X itself can tell us: account ids, protection, the
profile, and the posts that went out without tweetguard (a phone, another machine).

This package alone imports tweepy, and only inside functions: the native host's
cold start must not pay for tweepy and requests. It is a service used by the faces
(CLI, console); it may use checks and stores, never the other way round.
"""
