#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 for the tests that need a real database, and prints the
# connection string Backstage's TestDatabases reads (BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-postgres: pg_ctlcluster not found; install postgresql-15" >&2
  exit 1
fi
if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-postgres: PostgreSQL 15 is not running and starting it needs root" >&2
    exit 1
  fi
  pg_ctlcluster 15 main start >&2
fi
port=$(pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
echo "postgresql://postgres:postgres@127.0.0.1:$port"
