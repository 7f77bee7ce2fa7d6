#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 60), two at a time,
# seeded with a scratch copy of the committed corpus (tests/fuzz/corpus/<target>/;
# the repository's corpus is never grown). Exits non-zero if any target crashes,
# leaks, hangs or breaks a property. docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_TARGETS="policy_loader packet_parser"   only these targets
#   FUZZ_WORK_DIR=/tmp/x                          keep the grown corpora and artifacts
#                                                 there (reused by the next run)
#   FUZZ_BUILD_DIR=build-fuzz                     the clang build (configured if absent)
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-"policy_loader daemon_config policy_writer packet_parser journal control_request etcd_value yaml_sources follow_batch persisted_copy"}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ is not installed (scripts/deps.sh installs it)" >&2
  exit 2
fi
if [[ ! -f $BUILD/build.ninja ]]; then
  CXX=clang++ meson setup "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized >/dev/null || exit 2
fi
bins=()
for t in $TARGETS; do bins+=("tests/fuzz/fuzz_$t"); done
ninja -C "$BUILD" -j2 "${bins[@]}" >/dev/null || { echo "fuzz: build failed" >&2; exit 2; }

WORK=${FUZZ_WORK_DIR:-$(mktemp -d /tmp/sgfw-fuzz.XXXXXX)}
mkdir -p "$WORK"
# One target per job, FUZZ_JOBS (default: the CPUs, at most 2) at a time; each job writes
# its summary to $WORK/<target>.summary and the summaries are printed in target order.
run_target() {
  local t=$1
  local corpus=$WORK/corpus/$t artifacts=$WORK/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/$t/* "$corpus"/ 2>/dev/null
  [[ -d tests/fuzz/regressions/$t ]] && cp -n tests/fuzz/regressions/$t/* "$corpus"/ 2>/dev/null
  local rss=2048
  [[ $t == control_request ]] && rss=3072  # the EAL reserves 512 MiB
  local dict=()
  [[ -f tests/fuzz/dict/$t.dict ]] && dict=(-dict=tests/fuzz/dict/$t.dict)
  local log=$WORK/$t.log
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$BUILD/tests/fuzz/fuzz_$t" "$corpus" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=5 \
      -rss_limit_mb=$rss -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      >"$log" 2>&1
  local rc=$?
  local execs
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  {
    echo "fuzz $t: exit $rc, ${execs:-?} executions in ${SECONDS_EACH}s, corpus $(ls "$corpus" | wc -l) files"
    if [[ $rc -ne 0 ]]; then
      grep -m3 -E 'ERROR|runtime error|property violated|fuzz target' "$log" | sed 's/^/  /'
      echo "  log: $log; inputs: $(ls "$artifacts" | sed "s|^|$artifacts/|" | tr '\n' ' ')"
      echo "  add each input to tests/fuzz/regressions/$t/ (replayed by the suites) once fixed"
    fi
  } >"$WORK/$t.summary"
  return $rc
}

jobs_max=${FUZZ_JOBS:-$(( $(nproc) < 2 ? 1 : 2 ))}
for t in $TARGETS; do
  while (( $(jobs -rp | wc -l) >= jobs_max )); do wait -n; done
  run_target "$t" &
done
wait
failed=0
for t in $TARGETS; do
  cat "$WORK/$t.summary" 2>/dev/null || echo "fuzz $t: exit 99, no summary"
  grep -q "^fuzz $t: exit 0," "$WORK/$t.summary" 2>/dev/null || failed=1
done
echo "fuzz: work directory $WORK"
exit $failed
