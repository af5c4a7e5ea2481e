#!/usr/bin/env bash
# Start a local PostgreSQL server (Debian package) for the decision log tests. Run as root.
#
# Idempotent: installs the server only when it is missing, starts the newest installed major
# version's "main" cluster only when it is stopped, creates the fleetgate role and database only
# when they are absent, then checks a password login over TCP on 127.0.0.1. A second run changes
# nothing and succeeds. stdout carries exactly one line, meant for `eval "$(.ci/postgres.sh)"`:
#   export FLEETGATE_TEST_POSTGRES_URL=postgresql://fleetgate:fleetgate@127.0.0.1:PORT/fleetgate
# Everything else goes to stderr.
set -euo pipefail

WAIT_SECONDS=${FLEETGATE_POSTGRES_WAIT:-60}
ROLE=fleetgate
PASSWORD=fleetgate
DATABASE=fleetgate

log() { echo "postgres.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs and starts the system PostgreSQL server)"

newest_server_version() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/; do
    dir=${dir%/}
    [ -x "$dir/bin/postgres" ] || continue
    dir=${dir##*/}
    if [ -z "$best" ] || [ "${dir%%.*}" -gt "${best%%.*}" ]; then best=$dir; fi
  done
  echo "$best"
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(newest_server_version)" ]; then
  log "installing the postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y postgresql >&2
fi

VERSION=$(newest_server_version)
[ -n "$VERSION" ] || die "no PostgreSQL server binary under /usr/lib/postgresql after installation"

cluster_field() { # $1: column of pg_lsclusters (3 = port, 4 = status)
  pg_lsclusters -h | awk -v v="$VERSION" -v f="$1" '$1 == v && $2 == "main" { print $f }'
}

if [ -z "$(cluster_field 3)" ]; then
  log "creating cluster $VERSION/main"
  pg_createcluster "$VERSION" main >&2
fi
PORT=$(cluster_field 3)

if [ "$(cluster_field 4)" != "online" ]; then
  log "starting cluster $VERSION/main on port $PORT"
  pg_ctlcluster "$VERSION" main start >&2
fi

waited=0
until pg_isready -q -h 127.0.0.1 -p "$PORT"; do
  [ "$waited" -lt "$WAIT_SECONDS" ] || die "server $VERSION/main does not accept connections on 127.0.0.1:$PORT after ${WAIT_SECONDS}s"
  sleep 1
  waited=$((waited + 1))
done

# As the postgres OS user over the local socket (peer authentication); from / so that psql does
# not complain about root's home directory.
as_postgres() { (cd / && runuser -u postgres -- psql -p "$PORT" -X -q -v ON_ERROR_STOP=1 -tA "$@"); }

if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  log "creating role $ROLE"
  as_postgres -c "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PASSWORD'" >&2
fi
if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  log "creating database $DATABASE"
  as_postgres -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2
fi

URL="postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
[ "$(cd / && psql "$URL" -X -q -tA -c "SELECT 1")" = "1" ] ||
  die "cannot log in as $ROLE on 127.0.0.1:$PORT (check pg_hba.conf allows password logins from 127.0.0.1)"

log "PostgreSQL $VERSION ready on 127.0.0.1:$PORT"
echo "export FLEETGATE_TEST_POSTGRES_URL=$URL"
