#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Re-records the pgwire fixtures (tests/unit/data/pgwire/*.bin) from Debian's
# PostgreSQL 15, psql and libpq: a throwaway cluster on 127.0.0.1:55432 (TLS on,
# SCRAM, a throwaway password), the recording proxy on 55433, then each client.
# Needs: apt-get install postgresql postgresql-client libpq-dev; run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/..
work=$(mktemp -d /tmp/pgrec.XXXXXX)
chown postgres "$work"
bin=/usr/lib/postgresql/15/bin
su postgres -c "$bin/initdb -D $work/data -A trust -U postgres" >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/data/server.key" \
	-out "$work/data/server.crt" -days 2 -subj /CN=localhost 2>/dev/null
chown postgres "$work"/data/server.*
chmod 600 "$work/data/server.key"
cat >>"$work/data/postgresql.conf" <<CONF
port = 55432
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/data/pg_hba.conf"
su postgres -c "$bin/pg_ctl -D $work/data -l $work/server.log -w start" >/dev/null
trap 'su postgres -c "$bin/pg_ctl -D $work/data -m fast stop" >/dev/null; kill $proxy 2>/dev/null' EXIT
psql -q -h "$work" -p 55432 -U postgres -c "CREATE ROLE kspan LOGIN PASSWORD 'kspan-throwaway'" \
	-c "CREATE DATABASE shop OWNER kspan"
mkdir -p "$work/out"
python3 "$here/proxy.py" "$work/out" &
proxy=$!
sleep 1
for c in ext pipeline cancel; do
	gcc -O1 -I/usr/include/postgresql -o "$work/$c" "$here/$c.c" -lpq
done
conn="host=127.0.0.1 port=55433 user=kspan dbname=shop"
export PGPASSWORD=kspan-throwaway
# take NAME: the connection just recorded becomes NAME.bin.
take() { sleep 0.5; mv "$(ls "$work"/out/conn-*.bin | head -1)" "$out/$1.bin"; }
psql "$conn sslmode=disable" -f "$here/session.sql" >/dev/null 2>&1; take psql_session
psql "$conn sslmode=require" -c "select 1" >/dev/null; take psql_ssl_accepted
psql "$conn sslmode=disable" -c "SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 300) g" \
	>/dev/null; take psql_large_result
PGPASSWORD=wrong psql "$conn sslmode=disable" -c "select 1" >/dev/null 2>&1 || true; take psql_auth_failed
"$work/ext" >/dev/null; take libpq_extended
"$work/pipeline" >/dev/null; take libpq_pipeline
"$work/cancel" >/dev/null; take libpq_cancel_query; take libpq_cancel_request
psql -q -h "$work" -p 55432 -U postgres -c "ALTER SYSTEM SET ssl = off" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
psql "$conn sslmode=prefer" -c "SELECT current_database(), current_user" >/dev/null; take psql_ssl_refused
