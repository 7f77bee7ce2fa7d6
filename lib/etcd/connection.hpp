// Internal to lib/etcd (docs/design/etcd-client.md): one gRPC channel per endpoint and
// the endpoint in use. Included by client.cpp and watch.cpp only: it pulls in the
// generated protobuf/gRPC headers. Thread-safe: channels and stubs are thread-safe in
// gRPC; the current index is atomic.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "etcd/endpoint.hpp"
#include "rpc.grpc.pb.h"

namespace sgfw::etcd::internal {

struct Member {
  Endpoint endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;

  // Drives the channel towards READY for up to `budget`; true when it is. gRPC's sync
  // API polls a channel only while a call waits on it, and fail-fast calls do not wait:
  // without this, a channel whose member came back stays in its old failure (the watch
  // came back ~40 s after the cluster). docs/design/etcd-client.md, "Reconnection".
  bool ready(std::chrono::milliseconds budget) const;
};

class Connection {
 public:
  explicit Connection(const std::vector<Endpoint>& endpoints);

  [[nodiscard]] size_t size() const noexcept { return members_.size(); }
  [[nodiscard]] Member& member(size_t i) { return members_[i]; }
  // The endpoint to try first: the last one that worked.
  [[nodiscard]] size_t current() const noexcept { return current_.load(std::memory_order_relaxed); }
  // `i` failed: move on to the next endpoint, unless another caller already did.
  void failed(size_t i) noexcept;
  void worked(size_t i) noexcept { current_.store(i, std::memory_order_relaxed); }

 private:
  std::vector<Member> members_;
  std::atomic<size_t> current_{0};
};

// "Range: <message> (UNAVAILABLE)"
[[nodiscard]] std::string describe(std::string_view call, const grpc::Status& status);
// Failures worth trying another member for: the member is down, has no leader or is slow.
[[nodiscard]] bool is_member_failure(const grpc::Status& status) noexcept;

}  // namespace sgfw::etcd::internal
