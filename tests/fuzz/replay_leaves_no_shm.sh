#!/usr/bin/env bash
# The control_request target keeps persisted policies in /dev/shm/sgfw-fuzz-<pid>: a
# replay (like every fuzz run) must remove that directory when it exits, or each run
# leaves one behind. Usage: replay_leaves_no_shm.sh FUZZ_REPLAY CORPUS_DIR
set -u
"$1" control_request "$2" &
pid=$!
wait "$pid" || { echo "replay failed" >&2; exit 1; }
if [[ -e /dev/shm/sgfw-fuzz-$pid ]]; then
  echo "FAIL: /dev/shm/sgfw-fuzz-$pid left behind" >&2
  rm -rf "/dev/shm/sgfw-fuzz-$pid"
  exit 1
fi
echo "ok: no /dev/shm/sgfw-fuzz-$pid after the replay"
