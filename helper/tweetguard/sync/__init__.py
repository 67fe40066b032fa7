"""A helper enrolled with a school's tweetguard server (docs/server-api.md).

The machine gets its school's policy and consent register from the server and
sends its audit rows there; between rounds, and whenever the server cannot be
reached, it works on the last good copy of both and says so (the hello reply's
`server`, the popup). One job a module:

- `client`: the HTTP calls of docs/server-api.md, each with a timeout, TLS checked
  against the system's certificates or a CA file IT names, every failure one line.
- `state`: what enrolment left (`<home>/server.toml`; the credential in the OS
  keyring) and what the last round found (`<home>/sync-state.json`).
- `policy_pull`, `register_pull`, `audit_push`: the three steps of a round.
- `rounds`: one round, its steps in order, the device's online/offline/refused state.
- `loop`: rounds at host start (off the first reply's path) and every poll interval.
- `enrolment`: enrol and unenrol, for `tweetguard enrol` / `unenrol`.
"""
