#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every suite (unit, eal,
# e2e) and ends with "N passed, N failed, N skipped". Non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SGFW_BUILD_DIR:-build}

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! scripts/build.sh; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

suites=(unit eal)
[[ -f tests/e2e/meson.build ]] && suites+=(e2e)
status=0
for s in "${suites[@]}"; do
  echo "=== suite $s"
  meson test -C "$BUILD_DIR" --no-rebuild --print-errorlogs --suite "$s" \
    --logbase "testlog-$s" || status=1
done

# Count per test from meson's JSON logs: OK/EXPECTEDFAIL pass, SKIP skips, the rest fail.
read -r passed failed skipped < <(python3 - "$BUILD_DIR" "${suites[@]}" <<'PY'
import json, sys
build, suites = sys.argv[1], sys.argv[2:]
p = f = s = 0
for suite in suites:
    try:
        lines = open(f"{build}/meson-logs/testlog-{suite}.json").read().splitlines()
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
[[ $failed -gt 0 ]] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
