# Sourced by .ci/run and .ci/bench: make sure PostgreSQL is reachable at
# $pg_url (SLAKEEPER_TEST_POSTGRES, default 127.0.0.1:5432 as postgres),
# starting a local cluster that is installed but down. Under CI=true it
# fails, never skips, when no database can be reached.
pg_url="${SLAKEEPER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
pg_up() { pg_isready -q -d "$pg_url" 2>/dev/null; }

if command -v pg_isready >/dev/null && ! pg_up && [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if command -v pg_isready >/dev/null && ! pg_up; then
  if [ -n "${CI:-}" ]; then
    echo "FATAL: PostgreSQL is not reachable at $pg_url; CI does not run without it." >&2
    exit 1
  fi
  echo "warning: PostgreSQL is not reachable; its tests will be skipped (they never are under CI=true)." >&2
fi
