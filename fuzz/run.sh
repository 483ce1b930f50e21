#!/usr/bin/env bash
# Fuzzing in CI (issue 12): builds the cargo-fuzz targets in fuzz/fuzz_targets and runs each
# for a few seconds, from the committed seeds (fuzz/corpus/<target>/seed-*) and the corpus kept
# between runs in the cache; fails on any crash, timeout (-timeout) or out-of-memory.
# Works from a clean clone with empty caches: installs cargo-fuzz if it is missing.
#
#   fuzz/run.sh                        every target, FUZZ_SECONDS (default 8) each
#   fuzz/run.sh import_csv             some targets
#   FUZZ_SECONDS=300 fuzz/run.sh       a longer hunt
#
# Only stable Rust is installed: cargo fuzz passes -Z flags, so RUSTC_BOOTSTRAP=1. No
# sanitizer: the crate forbids unsafe code, and panics, stack overflows, timeouts and memory
# blow-ups (what safe Rust can do wrong) are caught without one, at half the build and run time.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-8}"
per_input_timeout="${FUZZ_TIMEOUT:-5}"
cache="$(dirname "${CARGO_TARGET_DIR:-$HOME/.cache/fulian-graph/target}")"
# A target dir of its own: instrumented builds would otherwise evict the main build's.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$cache/fuzz-target}"
corpora="${FUZZ_CORPUS_DIR:-$cache/fuzz-corpus}"
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never
triple=$(rustc -vV | sed -n 's/^host: //p')
build_flags=(--fuzz-dir fuzz --sanitizer none --target "$triple")

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^fulian-graph-fuzz$')
fi

started=$(date +%s)
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== cargo-fuzz is missing: cargo install cargo-fuzz --locked"
  cargo install cargo-fuzz --locked --version 0.13.2
fi
installed=$(date +%s)
echo "== $(cargo fuzz --version); target dir $CARGO_TARGET_DIR"

# The targets build the versions the main crate ships with (libfuzzer-sys is pinned).
cp Cargo.lock fuzz/Cargo.lock
# All targets in one build when all are asked for (each `cargo fuzz build <target>` would
# rebuild the crate after a change).
if [ "$#" -gt 0 ]; then
  for target in "${targets[@]}"; do cargo fuzz build "${build_flags[@]}" "$target"; done
else
  cargo fuzz build "${build_flags[@]}"
fi
built=$(date +%s)
echo "== built ${#targets[@]} targets in $((built - installed)) s (cargo-fuzz install: $((installed - started)) s)"

# The import targets write each input to a file: in memory when /dev/shm is there.
scratch=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/fulian-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for target in "${targets[@]}"; do
  corpus="$corpora/$target"
  mkdir -p "$corpus" "fuzz/artifacts/$target"
  # Kept between runs so short runs add up; started afresh if it ever grows large.
  if [ "$(find "$corpus" -type f | wc -l)" -gt 20000 ]; then rm -rf "$corpus" && mkdir -p "$corpus"; fi
  binary="$CARGO_TARGET_DIR/$triple/release/$target"
  flags=(-max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb=1024 -malloc_limit_mb=1024
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1)
  echo "== $target: $binary ${flags[*]} $corpus fuzz/corpus/$target"
  log="$scratch/$target.log"
  if TMPDIR="$scratch" "$binary" "${flags[@]}" "$corpus" "fuzz/corpus/$target" >"$log" 2>&1; then
    grep -E '^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" |
      sed 's/^/   /'
    echo "   corpus: $(find "$corpus" -type f | wc -l) units kept in $corpus"
  else
    status=$?
    failed+=("$target")
    echo "!! $target failed (exit $status): the end of libFuzzer's output follows"
    tail -n 60 "$log"
    for artifact in "fuzz/artifacts/$target"/*; do
      [ -f "$artifact" ] || continue
      echo "!! input $artifact ($(wc -c <"$artifact") bytes), base64:"
      base64 -w 0 "$artifact" | head -c 20000
      echo
      echo "!! reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${build_flags[*]} $target $artifact"
    done
  fi
done

finished=$(date +%s)
echo "== fuzzing took $((finished - started)) s in all (install $((installed - started)) s," \
  "build $((built - installed)) s, runs $((finished - built)) s)"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "!! fuzz targets that failed: ${failed[*]}"
  exit 1
fi
echo "== no crash, timeout or out-of-memory in ${targets[*]}"
