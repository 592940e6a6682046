#!/usr/bin/env bash
# Makes sure the services the tests need are up on this machine: PostgreSQL on
# 127.0.0.1:5432 (role postgres, database test, trust auth) and Redis on
# 127.0.0.1:6379, plus redis-server/redis-cli binaries for the cluster and outage
# tests, and chromium (with npm, for axe-core) for the page's browser tests.
# Starts them when installed but stopped; installs them with apt-get when
# absent (root only). Prints one line per service; exits non-zero if one is still down.
set -uo pipefail

log() { echo "services: $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null 2>&1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

pg_tcp() { psql -h 127.0.0.1 -U postgres -d "${1:-postgres}" -tAc "${2:-SELECT 1}" 2>/dev/null; }
as_pg() { as_root su postgres -c "$1" >/dev/null 2>&1; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing postgresql"; apt_install postgresql postgresql-client || { log "postgresql install failed"; return 1; }
  fi
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if ! pg_up; then
    if [ -z "$ver" ]; then log "no postgresql cluster found"; return 1; fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null 2>&1 || as_root pg_ctlcluster "$ver" main start >/dev/null 2>&1
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || { log "postgresql is down"; return 1; }
  # Tests connect over TCP as postgres without a password: trust loopback only.
  if [ "$(pg_tcp)" != 1 ] && [ -n "$ver" ]; then
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" 2>/dev/null; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    as_pg "psql -qc 'SELECT pg_reload_conf()'"
    sleep 1
  fi
  if [ "$(pg_tcp)" != 1 ]; then
    as_pg "psql -qc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='postgres') THEN CREATE ROLE postgres SUPERUSER LOGIN; END IF; END\\\$\\\$\""
  fi
  if [ "$(pg_tcp postgres "SELECT 1 FROM pg_database WHERE datname='test'")" != 1 ]; then
    pg_tcp postgres "CREATE DATABASE test" >/dev/null || as_pg "createdb test"
  fi
  [ "$(pg_tcp test)" = 1 ] || { log "cannot connect to postgres://postgres@127.0.0.1:5432/test"; return 1; }
  log "postgresql up (postgres://postgres@127.0.0.1:5432/test)"
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    log "installing redis"; apt_install redis-server redis-tools || { log "redis install failed"; return 1; }
  fi
  if ! redis_up; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 \
      || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  redis_up || { log "redis is down"; return 1; }
  log "redis up (127.0.0.1:6379, $(redis-server --version | awk '{print $3}'))"
}

# The page's browser tests (cmd/devicegate/browser_test.go) drive Debian's chromium;
# a CJK font lets the Chinese views render, and npm fetches axe-core for their
# accessibility scan (into the user cache, on first use).
ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    log "installing chromium"; apt_install chromium fonts-wqy-microhei || { log "chromium install failed"; return 1; }
  fi
  if ! command -v npm >/dev/null 2>&1; then
    log "installing npm (fetches axe-core)"; apt_install npm || { log "npm install failed"; return 1; }
  fi
  log "chromium ready ($(command -v chromium))"
}

rc=0
ensure_postgres || rc=1
ensure_redis || rc=1
ensure_chromium || rc=1
exit $rc
