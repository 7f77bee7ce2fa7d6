#include "etcd/watch.hpp"

#include "etcd/backoff.hpp"
#include "etcd/connection.hpp"
#include "etcd/convert.hpp"

namespace sgfw::etcd {

core::Expected<std::unique_ptr<Watch>> Watch::start(std::shared_ptr<Client> client, std::string prefix,
                                                    int64_t start_revision, Callback callback) {
  if (!client) return core::make_error("etcd watch: no client");
  if (prefix.empty()) return core::make_error("etcd watch: empty prefix");
  if (start_revision < 0) return core::make_error("etcd watch: negative start revision");
  if (!callback) return core::make_error("etcd watch: no callback");
  std::unique_ptr<Watch> w(new Watch(std::move(client), std::move(prefix), start_revision, std::move(callback)));
  w->thread_ = std::thread([p = w.get()] { p->run(); });
  return w;
}

Watch::Watch(std::shared_ptr<Client> client, std::string prefix, int64_t start_revision, Callback callback)
    : client_(std::move(client)), prefix_(std::move(prefix)), next_revision_(start_revision),
      callback_(std::move(callback)) {}

Watch::~Watch() { stop(); }

void Watch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watch::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
}

void Watch::run() {
  auto& conn = *client_->connection();
  Backoff backoff(client_->options().backoff_initial, client_->options().backoff_max,
                  static_cast<uint64_t>(reinterpret_cast<uintptr_t>(this)) ^
                      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  size_t i = conn.current();
  for (;;) {
    bool connected = false;
    if (run_stream(i, connected)) break;
    if (connected) backoff.reset();
    conn.failed(i);
    i = (i + 1) % conn.size();
    // Wait before the next member; the delay grows until a stream opens again.
    sleep_for(backoff.next());
    std::lock_guard lock(mutex_);
    if (stopping_) break;
  }
  running_.store(false);
}

bool Watch::run_stream(size_t i, bool& connected) {
  auto& m = client_->connection()->member(i);
  m.ready(std::min<std::chrono::milliseconds>(client_->options().call_timeout, std::chrono::milliseconds(1000)));
  grpc::ClientContext ctx;
  // Ask the member to end the stream when it loses its leader (etcd's
  // clientv3.WithRequireLeader), so a member cut off from the quorum is left.
  ctx.AddMetadata("hasleader", "true");
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return true;
    context_ = &ctx;
  }
  auto stream = m.watch->Watch(&ctx);
  etcdserverpb::WatchRequest req;
  auto* create = req.mutable_create_request();
  create->set_key(prefix_);
  create->set_range_end(prefix_range_end(prefix_));
  create->set_start_revision(next_revision_);
  bool ended = false;
  if (stream->Write(req)) {
    etcdserverpb::WatchResponse resp;
    while (!ended && stream->Read(&resp)) {
      if (resp.compact_revision() != 0) {
        WatchUpdate u;
        u.kind = WatchUpdate::Kind::kCompacted;
        u.compact_revision = resp.compact_revision();
        u.endpoint = m.endpoint.url;
        callback_(u);
        ended = true;
        break;
      }
      if (resp.canceled()) {
        WatchUpdate u;
        u.kind = WatchUpdate::Kind::kCanceled;
        u.detail = resp.cancel_reason();
        u.endpoint = m.endpoint.url;
        callback_(u);
        ended = true;
        break;
      }
      if (resp.created()) {
        connected = true;
        client_->connection()->worked(i);
        // From "now": events after the revision the watch was created at.
        if (next_revision_ == 0) next_revision_ = resp.header().revision() + 1;
        WatchUpdate u;
        u.kind = WatchUpdate::Kind::kConnected;
        u.revision = next_revision_;
        u.endpoint = m.endpoint.url;
        callback_(u);
      }
      if (resp.events_size() == 0) continue;
      WatchUpdate u;
      u.kind = WatchUpdate::Kind::kEvents;
      u.events.reserve(static_cast<size_t>(resp.events_size()));
      for (const auto& e : resp.events()) {
        if (e.kv().mod_revision() < next_revision_) {  // never twice (docs/design/etcd-client.md)
          duplicates_.fetch_add(1);
          continue;
        }
        u.events.push_back(internal::from_proto(e));
      }
      if (u.events.empty()) continue;
      u.revision = u.events.back().kv.mod_revision;
      next_revision_ = u.revision + 1;
      last_revision_.store(u.revision);
      callback_(u);
    }
  }
  {
    std::lock_guard lock(mutex_);
    context_ = nullptr;
    if (stopping_) ended = true;
  }
  ctx.TryCancel();  // a stream still open (compacted, canceled) must not block Finish
  grpc::Status st = stream->Finish();
  if (ended) return true;
  WatchUpdate u;
  u.kind = WatchUpdate::Kind::kDisconnected;
  u.endpoint = m.endpoint.url;
  u.detail = st.ok() ? "the stream ended" : internal::describe("Watch", st);
  callback_(u);
  return false;
}

}  // namespace sgfw::etcd
