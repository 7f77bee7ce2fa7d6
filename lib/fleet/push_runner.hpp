// Runs a policy push against etcd (docs/fleet.md, "Limits and the push of a large
// policy" and "policy push and pull"): read the prefix at one revision, plan_push, then
// one guarded transaction or the staged steps behind PREFIX "meta/push"; on a guard
// that fails, read again and retry. Control path only (sgfwctl policy push).
//
// Thread-safety: one push per call, no shared state besides the etcd::Client (itself
// thread-safe). Errors: Expected values with a message for the operator; nothing
// throws.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "etcd/client.hpp"
#include "fleet/key_layout.hpp"
#include "fleet/push_plan.hpp"

namespace sgfw::fleet {

// Every key under `prefix` at one revision (Client::range_prefix, paged).
struct StoredSnapshot {
  StoredKeys keys;
  int64_t revision = 0;
};
[[nodiscard]] core::Expected<StoredSnapshot> read_stored(etcd::Client& client, std::string_view prefix);

struct PushOptions {
  bool force = false;    // a PREFIX meta/push found at the start is removed (guarded by its revision)
  int retries = 3;       // re-reads after a guard failed or a write's outcome is unknown
  PushLimits limits;     // etcd's transaction limits (defaults: etcd's defaults)
  std::string push_id;   // written into the marker's value (who pushes); may be empty
  // Tests only (the etcd probe): called before each transaction of an attempt with the
  // attempt (1-based) and the transaction's index in it (staged: 0 opens the marker),
  // so a test can change a key in between and make a guard fail.
  std::function<void(int attempt, size_t transaction)> before_transaction;
};

struct PushOutcome {
  int64_t revision = 0;   // the store's revision after the push (nothing written: the read's)
  size_t puts = 0;        // keys written by this push
  size_t deletes = 0;     // keys deleted by this push
  size_t unchanged = 0;   // wanted keys this push did not need to write
  size_t transactions = 0;  // transactions that succeeded (marker ones included)
  bool staged = false;      // behind PREFIX meta/push
  int attempts = 0;         // reads of the prefix (1 without a retry)
  int64_t stale_marker_revision = 0;  // --force removed a marker of that mod_revision (0: none)
};

// Makes the keys under `prefix` equal to `wanted` (every policy key; PREFIX meta/ left
// alone). Errors: the read or a write failed (etcd's message; after a write whose outcome
// is unknown the push re-reads first); "a push is in progress: PREFIXmeta/push exists
// (revision R) ...; if its pusher died, run policy push --force"; the guards kept failing
// ("... changed by someone else N times; nothing (or: part, behind the marker) was
// written"); plan_push's errors.
[[nodiscard]] core::Expected<PushOutcome> push_keys(etcd::Client& client, const KeyValues& wanted,
                                                    std::string_view prefix, const PushOptions& options);

}  // namespace sgfw::fleet
