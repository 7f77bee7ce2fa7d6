#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every suite (unit, eal, packaging,
# e2e), then the unit and eal suites again under AddressSanitizer and UBSan
# (build-asan/), then each fuzz target for a short fixed time (docs/fuzzing.md). With
# clang installed, build-asan is one clang build with -Dfuzz=true that serves both the
# sanitizer pass and the fuzz targets (one instrumented compile of the libraries instead
# of two); without clang it is a gcc build and the fuzz pass is skipped. It ends with "N passed, N failed, N skipped" counting every test
# of every pass (each fuzz target counts as one test). Non-zero exit on any failure.
#   SGFW_SKIP_E2E=1, SGFW_SKIP_ASAN=1, SGFW_SKIP_FUZZ=1: leave that pass out
#   SGFW_FUZZ_SECONDS=15  time per fuzz target
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SGFW_BUILD_DIR:-build}
ASAN_DIR=${SGFW_ASAN_BUILD_DIR:-build-asan}
FUZZ_SECONDS=${SGFW_FUZZ_SECONDS:-15}

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! scripts/build.sh; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# The sanitizer build (build-asan/) compiles in the background, at the lowest priority,
# while the plain suites run: the e2e suite mostly waits on timers and namespaces, and
# the compile takes the CPU they leave (docs/testing.md, "CI time").
asan_ok=0
asan_pid=
asan_tests=()
fuzz_targets=(policy_loader daemon_config policy_writer packet_parser journal control_request etcd_value yaml_sources follow_batch persisted_copy)
if [[ -z ${SGFW_SKIP_ASAN:-} ]]; then
  asan_ok=1
  if [[ ! -f $ASAN_DIR/build.ninja ]]; then
    # -O1: compiles faster than -O2 and is what the sanitizers (and libFuzzer) are
    # usually run at. With clang, the same build holds the fuzz targets.
    san_cxx=${CXX:-c++} san_fuzz=()
    command -v clang++ >/dev/null && san_cxx=clang++ san_fuzz=(-Dfuzz=true)
    CXX=$san_cxx meson setup "$ASAN_DIR" --buildtype=debugoptimized -Doptimization=1 \
      -Db_sanitize=address,undefined -Db_lundef=false "${san_fuzz[@]}" >/dev/null || asan_ok=0
  fi
  if ((asan_ok)); then
    # The compiled tests of the two suites (not the daemon, the client or the benches;
    # not the tests that run a script, e.g. layering and docs, which the plain pass ran).
    # Each line: suite, test name, its executable relative to the build dir.
    mapfile -t asan_tests < <(meson introspect "$ASAN_DIR" --tests | python3 -c '
import json, os, sys
build = os.path.abspath(sys.argv[1])
for t in json.load(sys.stdin):
    suites = {"sgfw:unit", "sgfw:eal"} & set(t["suite"])
    exe = os.path.abspath(t["cmd"][0])
    if suites and exe.startswith(build + os.sep):
        print(sorted(suites)[0].split(":")[1], t["name"], os.path.relpath(exe, build))' "$ASAN_DIR")
    exes=()
    for line in "${asan_tests[@]}"; do exes+=("${line##* }"); done
    if [[ -z ${SGFW_SKIP_FUZZ:-} ]] && grep -q -- '-fsanitize=fuzzer-no-link' "$ASAN_DIR/build.ninja"; then
      for t in "${fuzz_targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
    fi
    mapfile -t exes < <(printf '%s\n' "${exes[@]}" | sort -u)
    if ((${#exes[@]})); then
      nice -n 19 ninja -C "$ASAN_DIR" -j2 "${exes[@]}" >"$ASAN_DIR/background-build.log" 2>&1 &
      asan_pid=$!
      trap 'kill "$asan_pid" 2>/dev/null' EXIT
    else
      asan_ok=0
    fi
  fi
fi

# Each entry: "<build dir> <logbase>" of one meson test run, counted below.
runs=()
extra_failed=0
status=0
suites=(unit eal)
# packaging: a few seconds; each test skips itself (77) without systemd-analyze or groff.
[[ -f tests/packaging/meson.build ]] && suites+=(packaging)
[[ -f tests/e2e/meson.build && -z ${SGFW_SKIP_E2E:-} ]] && suites+=(e2e)
for s in "${suites[@]}"; do
  echo "=== suite $s"
  meson test -C "$BUILD_DIR" --no-rebuild --print-errorlogs --suite "$s" \
    --logbase "testlog-$s" || status=1
  runs+=("$BUILD_DIR testlog-$s")
done

if [[ -z ${SGFW_SKIP_ASAN:-} ]]; then
  echo "=== suites unit, eal under ASan+UBSan ($ASAN_DIR)"
  if [[ -n $asan_pid ]] && ! wait "$asan_pid"; then
    tail -20 "$ASAN_DIR/background-build.log"
    asan_ok=0
  fi
  if ((asan_ok)); then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    # The pipeline-vs-explain proof runs at full size in the plain pass; here a fifth of
    # the policies and a fiftieth of the packets keep the sanitizer pass short (it looks
    # for memory errors, not mismatches; each policy is a reload under ASan).
    export SGFW_PVE_POLICIES=${SGFW_PVE_POLICIES_ASAN:-40}
    export SGFW_PVE_PACKETS=${SGFW_PVE_PACKETS_ASAN:-10000}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/sanitizers/ubsan.supp}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0}
    for s in unit eal; do
      names=()
      for line in "${asan_tests[@]}"; do
        read -r suite name _ <<<"$line"
        [[ $suite == "$s" ]] && names+=("$name")
      done
      meson test -C "$ASAN_DIR" --no-rebuild --print-errorlogs --logbase "testlog-asan-$s" \
        "${names[@]}" || status=1
      runs+=("$ASAN_DIR testlog-asan-$s")
    done
  else
    echo "sanitizer build failed"
    extra_failed=$((extra_failed + 1))
  fi
fi

fuzz_passed=0
if [[ -z ${SGFW_SKIP_FUZZ:-} ]]; then
  if command -v clang++ >/dev/null; then
    # The sanitizer build holds the fuzz targets when it was configured with clang.
    fuzz_dir=build-fuzz
    [[ -z ${SGFW_SKIP_ASAN:-} && -f $ASAN_DIR/build.ninja ]] &&
      grep -q -- '-fsanitize=fuzzer-no-link' "$ASAN_DIR/build.ninja" && fuzz_dir=$ASAN_DIR
    echo "=== fuzz targets, ${FUZZ_SECONDS}s each ($fuzz_dir)"
    work=$(mktemp -d /tmp/sgfw-fuzz-ci.XXXXXX)
    out=$(FUZZ_TARGETS="${fuzz_targets[*]}" FUZZ_WORK_DIR=$work FUZZ_BUILD_DIR=$fuzz_dir \
      scripts/fuzz.sh "$FUZZ_SECONDS" 2>&1)
    frc=$?
    echo "$out"
    p=$(grep -c '^fuzz [a-z_]*: exit 0,' <<<"$out")
    f=$(grep -c '^fuzz [a-z_]*: exit [1-9]' <<<"$out")
    fuzz_passed=$p
    extra_failed=$((extra_failed + f))
    if [[ $frc -ne 0 ]]; then
      status=1
      ((f == 0)) && extra_failed=$((extra_failed + 1))  # the fuzz build itself failed
    else
      rm -rf "$work"
    fi
  else
    echo "=== fuzz targets: skipped (clang++ not installed)"
  fi
fi

# Count per test from meson's JSON logs: OK/EXPECTEDFAIL pass, SKIP skips, the rest fail.
read -r passed failed skipped < <(python3 - "${runs[@]}" <<'PY'
import json, sys
p = f = s = 0
for run in sys.argv[1:]:
    build, logbase = run.split(" ", 1)
    try:
        lines = open(f"{build}/meson-logs/{logbase}.json").read().splitlines()
    except OSError:
        f += 1
        continue
    if not lines:
        f += 1
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
print(p, f, s)
PY
)
passed=$((passed + fuzz_passed))
failed=$((failed + extra_failed))
[[ $failed -gt 0 ]] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
