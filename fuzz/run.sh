#!/usr/bin/env bash
# Runs fuzz targets one after another, each for RUNS executions (default 10^6) or
# SECONDS_EACH seconds (default 600), whichever comes first, one job each; a crash stops
# that target (its input lands in fuzz/artifacts/<target>/) and the next one starts.
#
#     fuzz/run.sh                  # every target
#     fuzz/run.sh schema payload   # some
#
# Needs the targets built first: cargo +nightly fuzz build -s none (from the repository root).
set -uo pipefail
cd "$(dirname "$0")" || exit
runs=${RUNS:-1000000}
seconds=${SECONDS_EACH:-600}
bin=target/x86_64-unknown-linux-gnu/release
all=(schema index_file manifest_json manifest_authored_json manifest_bower manifest_spago_yaml metadata package_set payload
  issue_body github_event tarball_unpack manifest_dhall config_dhall)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
mkdir -p logs
for t in "${targets[@]}"; do
  case $t in
    index_file | metadata | package_set) max_len=16384 ;;
    *) max_len=4096 ;;
  esac
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "--- $t: -runs=$runs -max_total_time=$seconds -max_len=$max_len"
  start=$(date +%s)
  # tarball_unpack makes a directory an execution: keep them in memory
  TMPDIR=${FUZZ_TMPDIR:-/dev/shm} "$bin/$t" "corpus/$t" "seeds/$t" \
    -runs="$runs" -max_total_time="$seconds" -max_len="$max_len" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
  rc=$?
  echo "--- $t: exit $rc after $(($(date +%s) - start)) s"
  grep -E "^(#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::peak_rss_mb)" "logs/$t.log" | tail -3
done
