#include "etcd/connection.hpp"

namespace sgfw::etcd::internal {

namespace {

const char* code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "ERROR";
  }
}

}  // namespace

Connection::Connection(const std::vector<Endpoint>& endpoints) {
  members_.reserve(endpoints.size());
  for (const auto& e : endpoints) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);  // a page of a large range (docs/fleet.md, "Limits")
    // Keepalive finds a member that stopped answering; etcd's default
    // --grpc-keepalive-min-time is 5 s, so no faster.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // Our own backoff decides when to come back; keep gRPC's short.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // gRPC gives each connection attempt at least this long (default 20 s). A member
    // that is restarting accepts TCP before it serves gRPC; an attempt made then would
    // wait that long for the HTTP/2 SETTINGS frame before the next one.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
    Member m;
    m.endpoint = e;
    m.channel = grpc::CreateCustomChannel(e.target, grpc::InsecureChannelCredentials(), args);
    m.kv = etcdserverpb::KV::NewStub(m.channel);
    m.watch = etcdserverpb::Watch::NewStub(m.channel);
    m.maintenance = etcdserverpb::Maintenance::NewStub(m.channel);
    members_.push_back(std::move(m));
  }
}

bool Member::ready(std::chrono::milliseconds budget) const {
  if (channel->GetState(true) == GRPC_CHANNEL_READY) return true;
  return channel->WaitForConnected(std::chrono::system_clock::now() + budget);
}

void Connection::failed(size_t i) noexcept {
  size_t expected = i;
  current_.compare_exchange_strong(expected, (i + 1) % members_.size(), std::memory_order_relaxed);
}

std::string describe(std::string_view call, const grpc::Status& status) {
  return std::string(call) + ": " + status.error_message() + " (" + code_name(status.error_code()) + ")";
}

bool is_member_failure(const grpc::Status& status) noexcept {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

}  // namespace sgfw::etcd::internal
