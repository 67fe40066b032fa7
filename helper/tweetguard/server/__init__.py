"""The school or trust server: many machines, one policy, one archive.

One data layer (`db/`) with two backends, SQLite for one school with nothing to
install and PostgreSQL for a trust, under small domain services with one job each:
`tenancy` (trusts, schools, users, the one permission check), `devices` (enrolment
and credentials), `policies` (the trust's defaults and locks under a school's own
layer), `registers` (each school's consent register by revision), `audit` (every
device's hash chain, verified on push). `api/` is the device API of
docs/server-api.md, `console/` the pages people use; `app.create_server_app` puts
them together and `serve` runs them under gunicorn. Nothing is kept between
requests but the database, so several processes can share one PostgreSQL.
"""
