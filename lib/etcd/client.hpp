// An etcd v3 client over gRPC (docs/design/etcd-client.md): range (paged, at one
// revision), put, delete, transactions, compaction and member status against a list of
// endpoints. Control path only.
//
// Thread-safety: every method may be called from any thread at the same time (gRPC
// channels are thread-safe; the endpoint in use is atomic). Errors: every call returns a
// value or an Error whose message names the endpoint and the call, e.g.
// "etcd http://127.0.0.1:2379: Range: connection refused (UNAVAILABLE)"; nothing throws.
// Every call has a deadline (`call_timeout`).
//
// Failover: a read (range, status) that fails because the member is down, slow or
// without a leader is tried on the next endpoint, each endpoint at most once per call. A
// write (put, delete, txn, compact) is sent once: on such a failure the next call starts
// on the next endpoint, and the error says the write may or may not have been applied
// (guard it with a Compare to retry safely, as `policy push` does, docs/fleet.md).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "etcd/types.hpp"

namespace sgfw::etcd {

namespace internal {
class Connection;
}

struct ClientOptions {
  std::vector<std::string> endpoints;  // "http://host:port", 1..16
  std::chrono::milliseconds call_timeout{5000};
  // Reconnection of watches (docs/design/etcd-client.md, "Reconnection").
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
};

class Client {
 public:
  // Validates the options; connects lazily (the first call connects). Errors: bad
  // endpoint URLs (etcd/endpoint.hpp), a zero timeout.
  [[nodiscard]] static core::Expected<std::shared_ptr<Client>> create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Keys in [key, range_end) (range_end empty: the one key) at `revision` (0: the latest),
  // at most `limit` keys (0: no limit); `more` tells whether keys were left out.
  struct RangePage {
    RangeResult result;
    bool more = false;
  };
  [[nodiscard]] core::Expected<RangePage> range(std::string_view key, std::string_view range_end,
                                                int64_t revision = 0, int64_t limit = 0);
  // Every key under `prefix` at one revision, read in pages of `page_size` keys (a large
  // prefix never needs one huge response). If the revision is compacted between pages
  // the read starts again, at most 3 times.
  [[nodiscard]] core::Expected<RangeResult> range_prefix(std::string_view prefix, int64_t page_size = 1000);

  // Returns the store's revision after the write.
  [[nodiscard]] core::Expected<int64_t> put(std::string_view key, std::string_view value);
  [[nodiscard]] core::Expected<DeleteResult> delete_range(std::string_view key, std::string_view range_end = {});
  [[nodiscard]] core::Expected<TxnResult> txn(const Txn& txn);
  // Compacts the history up to `revision` (physical: waits until it is done).
  [[nodiscard]] core::Status compact(int64_t revision);
  // The status of the member behind endpoint `index` (no failover: that member).
  [[nodiscard]] core::Expected<MemberStatus> member_status(size_t index);

  [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }
  [[nodiscard]] size_t endpoint_count() const noexcept;
  // The URL of the endpoint the next call tries first.
  [[nodiscard]] std::string current_endpoint() const;

  // For etcd::Watch (same module).
  [[nodiscard]] const std::shared_ptr<internal::Connection>& connection() const noexcept { return connection_; }

 private:
  Client(ClientOptions options, std::shared_ptr<internal::Connection> connection);

  ClientOptions options_;
  std::shared_ptr<internal::Connection> connection_;
};

}  // namespace sgfw::etcd
