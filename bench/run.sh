#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: synthetic data, a release server, the five workloads, and (on
# PostgreSQL) the floor: W1's and W2's SQL run directly with pgbench.
#
#   bench/run.sh postgres [national|province]   # default national; needs PostgreSQL at $PG_URL
#   bench/run.sh sqlite   [province|national]   # default province
#
# Env: PG_URL (default postgres://postgres@127.0.0.1:5432), BENCH_SECONDS (10), BENCH_CONNECTIONS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-postgres}
scale=${2:-$([ "$backend" = postgres ] && echo national || echo province)}
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-32}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
port=18099
export FULIAN_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fulian-graph/target}"

cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/fulian-graph"

case "$backend" in
  postgres)
    db=fulian_bench_$scale
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    url="$pg/$db" ;;
  sqlite)
    dir=$(mktemp -d); url="sqlite://$dir/bench.db" ;;
  *) echo "usage: $0 postgres|sqlite [national|province]"; exit 2 ;;
esac

echo "== gen-data --scale $scale ($backend)"
/usr/bin/time -f "gen-data: %e s wall, %M KB peak RSS" "$bin" --database-url "$url" --log warn gen-data --scale "$scale" --seed 1

echo "== server"
FULIAN_DATABASE_URL="$url" FULIAN_LISTEN="127.0.0.1:$port" FULIAN_RATE_LIMIT_PER_MINUTE=0 FULIAN_LOG=warn \
  "$bin" serve & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

echo "== workloads ($connections connections, ${seconds}s each after a 2s warm-up)"
"$bin" bench --url "http://127.0.0.1:$port" --seconds "$seconds" --connections "$connections"

if [ "$backend" = postgres ]; then
  echo "== floor: the same SQL through pgbench (8 clients, ${seconds}s)"
  for w in w1 w2; do
    printf '%s: ' "$w"
    PGOPTIONS='-c jit=off -c plan_cache_mode=force_custom_plan' pgbench -n -c 8 -j 2 -T "$seconds" -f "bench/sql/$w.sql" "$pg/$db" 2>/dev/null | grep -E '^tps' | sed 's/ (without initial connection time)//'
  done
fi
