#include "etcd/client.hpp"

#include "etcd/connection.hpp"
#include "etcd/convert.hpp"

namespace sgfw::etcd {

namespace {

// How long a call first waits for its member's channel to connect (Member::ready).
std::chrono::milliseconds connect_budget(const ClientOptions& o) {
  return std::min<std::chrono::milliseconds>(o.call_timeout, std::chrono::milliseconds(1000));
}

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

core::Unexpected call_error(const internal::Member& m, std::string_view call, const grpc::Status& st,
                            bool write) {
  std::string msg = "etcd " + m.endpoint.url + ": " + internal::describe(call, st);
  if (write && internal::is_member_failure(st)) msg += "; the write may or may not have been applied";
  return core::make_error(std::move(msg));
}

}  // namespace

core::Expected<std::shared_ptr<Client>> Client::create(ClientOptions options) {
  auto endpoints = parse_endpoints(options.endpoints);
  if (!endpoints) return core::make_error(endpoints.error().message);
  if (options.call_timeout.count() <= 0) return core::make_error("etcd: call_timeout must be positive");
  if (options.backoff_initial.count() <= 0 || options.backoff_max < options.backoff_initial)
    return core::make_error("etcd: backoff must be positive, initial <= max");
  auto connection = std::make_shared<internal::Connection>(*endpoints);
  return std::shared_ptr<Client>(new Client(std::move(options), std::move(connection)));
}

Client::Client(ClientOptions options, std::shared_ptr<internal::Connection> connection)
    : options_(std::move(options)), connection_(std::move(connection)) {}

Client::~Client() = default;

size_t Client::endpoint_count() const noexcept { return connection_->size(); }

std::string Client::current_endpoint() const {
  return connection_->member(connection_->current()).endpoint.url;
}

core::Expected<Client::RangePage> Client::range(std::string_view key, std::string_view range_end,
                                                int64_t revision, int64_t limit) {
  etcdserverpb::RangeRequest req;
  req.set_key(std::string(key));
  if (!range_end.empty()) req.set_range_end(std::string(range_end));
  req.set_revision(revision);
  req.set_limit(limit);
  std::string last_error;
  size_t start = connection_->current();
  for (size_t n = 0; n < connection_->size(); ++n) {
    size_t i = (start + n) % connection_->size();
    auto& m = connection_->member(i);
  m.ready(connect_budget(options_));
    m.ready(connect_budget(options_));
    grpc::ClientContext ctx;
    set_deadline(ctx, options_.call_timeout);
    etcdserverpb::RangeResponse resp;
    grpc::Status st = m.kv->Range(&ctx, req, &resp);
    if (st.ok()) {
      connection_->worked(i);
      RangePage page;
      page.result.revision = resp.header().revision();
      page.more = resp.more();
      page.result.kvs.reserve(static_cast<size_t>(resp.kvs_size()));
      for (const auto& kv : resp.kvs()) page.result.kvs.push_back(internal::from_proto(kv));
      return page;
    }
    if (!internal::is_member_failure(st)) return call_error(m, "Range", st, false);
    connection_->failed(i);
    last_error = call_error(m, "Range", st, false).error.message;
  }
  return core::make_error(last_error);
}

core::Expected<RangeResult> Client::range_prefix(std::string_view prefix, int64_t page_size) {
  if (page_size <= 0) return core::make_error("etcd: range page size must be positive");
  const std::string end = prefix_range_end(prefix);
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    RangeResult all;
    std::string from(prefix);
    bool compacted = false;
    for (;;) {
      auto page = range(from, end, all.revision, page_size);
      if (!page) {
        // The revision of the first page was compacted meanwhile: start again.
        if (all.revision != 0 && page.error().message.find("compacted") != std::string::npos) {
          compacted = true;
          last_error = page.error().message;
          break;
        }
        return core::make_error(page.error().message);
      }
      if (all.revision == 0) all.revision = page->result.revision;
      for (auto& kv : page->result.kvs) all.kvs.push_back(std::move(kv));
      if (!page->more || all.kvs.empty()) break;
      from = all.kvs.back().key;
      from.push_back('\0');  // the next key after the last one read
    }
    if (!compacted) return all;
  }
  return core::make_error(last_error);
}

core::Expected<int64_t> Client::put(std::string_view key, std::string_view value) {
  size_t i = connection_->current();
  auto& m = connection_->member(i);
  m.ready(connect_budget(options_));
  etcdserverpb::PutRequest req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  grpc::ClientContext ctx;
  set_deadline(ctx, options_.call_timeout);
  etcdserverpb::PutResponse resp;
  grpc::Status st = m.kv->Put(&ctx, req, &resp);
  if (!st.ok()) {
    if (internal::is_member_failure(st)) connection_->failed(i);
    return call_error(m, "Put", st, true);
  }
  return resp.header().revision();
}

core::Expected<DeleteResult> Client::delete_range(std::string_view key, std::string_view range_end) {
  size_t i = connection_->current();
  auto& m = connection_->member(i);
  m.ready(connect_budget(options_));
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(std::string(key));
  if (!range_end.empty()) req.set_range_end(std::string(range_end));
  grpc::ClientContext ctx;
  set_deadline(ctx, options_.call_timeout);
  etcdserverpb::DeleteRangeResponse resp;
  grpc::Status st = m.kv->DeleteRange(&ctx, req, &resp);
  if (!st.ok()) {
    if (internal::is_member_failure(st)) connection_->failed(i);
    return call_error(m, "DeleteRange", st, true);
  }
  return DeleteResult{resp.deleted(), resp.header().revision()};
}

core::Expected<TxnResult> Client::txn(const Txn& txn) {
  size_t i = connection_->current();
  auto& m = connection_->member(i);
  m.ready(connect_budget(options_));
  etcdserverpb::TxnRequest req;
  internal::to_proto(txn, req);
  grpc::ClientContext ctx;
  set_deadline(ctx, options_.call_timeout);
  etcdserverpb::TxnResponse resp;
  grpc::Status st = m.kv->Txn(&ctx, req, &resp);
  if (!st.ok()) {
    if (internal::is_member_failure(st)) connection_->failed(i);
    return call_error(m, "Txn", st, true);
  }
  return TxnResult{resp.succeeded(), resp.header().revision()};
}

core::Status Client::compact(int64_t revision) {
  size_t i = connection_->current();
  auto& m = connection_->member(i);
  m.ready(connect_budget(options_));
  etcdserverpb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  grpc::ClientContext ctx;
  set_deadline(ctx, options_.call_timeout);
  etcdserverpb::CompactionResponse resp;
  grpc::Status st = m.kv->Compact(&ctx, req, &resp);
  if (!st.ok()) {
    if (internal::is_member_failure(st)) connection_->failed(i);
    return call_error(m, "Compact", st, true);
  }
  return {};
}

core::Expected<MemberStatus> Client::member_status(size_t index) {
  if (index >= connection_->size()) return core::make_error("etcd: no endpoint " + std::to_string(index));
  auto& m = connection_->member(index);
  grpc::ClientContext ctx;
  set_deadline(ctx, options_.call_timeout);
  etcdserverpb::StatusRequest req;
  etcdserverpb::StatusResponse resp;
  grpc::Status st = m.maintenance->Status(&ctx, req, &resp);
  if (!st.ok()) return call_error(m, "Status", st, false);
  MemberStatus out;
  out.member_id = resp.header().member_id();
  out.leader = resp.leader();
  out.raft_term = resp.raftterm();
  out.revision = resp.header().revision();
  out.version = resp.version();
  return out;
}

}  // namespace sgfw::etcd
