#include "daemon/etcd_follower.hpp"

#include <iostream>

#include "core/escape.hpp"
#include "fleet/decode.hpp"
#include "follow/batch.hpp"
#include "protocol/protocol.hpp"

namespace sgfw::daemon {

namespace {

constexpr std::chrono::seconds kCopyEvery{1};  // the persisted copy: at most once a second

void log_line(const std::string& line) { std::cout << "sgfwd: " << core::escape_for_log(line, 4096) << std::endl; }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

core::Expected<std::unique_ptr<EtcdFollower>> EtcdFollower::start(const config::DaemonConfig& cfg, EtcdStart start,
                                                                  control::ControlPlane& control,
                                                                  runtime::Publisher* publisher) {
  std::unique_ptr<EtcdFollower> f(new EtcdFollower(cfg, control, publisher));
  f->client_ = start.client;
  auto loader = EtcdLoader::create(f->client_, f->src_.prefix);
  if (!loader) return core::make_error(loader.error().message);
  f->loader_ = std::move(*loader);
  f->writer_ = std::make_unique<follow::CopyWriter>(cfg.policy, std::chrono::milliseconds(1000));
  f->revision_ = start.revision;
  f->applied_at_ = std::chrono::system_clock::now();
  if (start.from_etcd) {
    f->set_connected(true, "etcd: connected to " + start.endpoint);
    log_line(start.log_line);
    f->map_ = std::move(start.kvs);
    f->map_revision_ = start.revision;
    f->have_map_ = f->consistent_ = true;
    f->push_open_ = f->map_.count(follow::push_marker_key(f->src_.prefix)) != 0;
    f->copy_due_ = true;
    f->start_watch(start.revision + 1);
  } else {
    log_line(start.log_line);
    f->loader_->request_full_load();
  }
  EtcdFollower* self = f.get();
  control.set_source_hooks({[self] { return self->status(); },
                            [self](control::ChangeRequest r, const control::Peer& p) { return self->change(std::move(r), p); },
                            [self] { return self->metrics(); }});
  return f;
}

EtcdFollower::EtcdFollower(const config::DaemonConfig& cfg, control::ControlPlane& control,
                           runtime::Publisher* publisher)
    : src_(cfg.policy_source.source), copy_path_(cfg.policy), control_(control), publisher_(publisher) {}

EtcdFollower::~EtcdFollower() {
  control_.set_source_hooks({});
  watch_.reset();   // no callback after this
  loader_.reset();  // joins its thread
  writer_.reset();  // writes a copy still pending
}

void EtcdFollower::set_connected(bool connected, const std::string& what) {
  if (connected != connected_) log_line(what);
  connected_ = connected;
}

void EtcdFollower::start_watch(int64_t from) {
  watch_.reset();
  EtcdLoader* loader = loader_.get();
  auto w = etcd::Watch::start(client_, src_.prefix, from, [loader](const etcd::WatchUpdate& u) { loader->post_update(u); });
  if (!w) {
    log_line("etcd: watch: " + w.error().message);
    return;
  }
  watch_ = std::move(*w);
}

void EtcdFollower::pump(const Deliver& deliver) {
  for (auto& item : loader_->drain()) {
    switch (item.kind) {
      case LoaderItem::Kind::kUpdate: on_update(item.update); break;
      case LoaderItem::Kind::kLoaded:
        client_ = item.client;  // the watch uses the channel that answered
        on_loaded(std::move(item.range), item.endpoint);
        break;
      case LoaderItem::Kind::kLoadFailed: set_connected(false, "etcd: disconnected: " + item.error); break;
      case LoaderItem::Kind::kWritten: on_written(item, deliver); break;
    }
  }
  next_batch();
  for (auto& [connection, reply] : replies_) deliver(connection, reply);
  replies_.clear();
  persist_if_due();
}

void EtcdFollower::on_update(const etcd::WatchUpdate& u) {
  using K = etcd::WatchUpdate::Kind;
  switch (u.kind) {
    case K::kConnected: set_connected(true, "etcd: connected to " + u.endpoint); break;
    case K::kDisconnected: set_connected(false, "etcd: disconnected: " + u.detail); break;
    case K::kEvents: {
      const std::string marker = follow::push_marker_key(src_.prefix);
      for (const auto& e : u.events) {
        if (e.kv.key == marker) push_open_ = e.type == etcd::Event::Type::kPut;
        pending_.push_back(e);
      }
      break;
    }
    case K::kCompacted:
      log_line("etcd: revision " + std::to_string(map_revision_ + 1) + " was compacted; full reload");
      loader_->request_full_load();
      break;
    case K::kCanceled:
      log_line("etcd: the watch was canceled (" + u.detail + "); full reload");
      loader_->request_full_load();
      break;
  }
}

void EtcdFollower::on_loaded(etcd::RangeResult range, const std::string& endpoint) {
  watch_.reset();  // the new one starts after this revision
  map_.clear();
  for (auto& kv : range.kvs) map_.emplace(std::move(kv.key), std::move(kv.value));
  map_revision_ = range.revision;
  pending_.clear();
  have_map_ = true;
  push_open_ = map_.count(follow::push_marker_key(src_.prefix)) != 0;
  need_full_ = true;
  consistent_ = false;
  ++epoch_;
  set_connected(true, "etcd: connected to " + endpoint);
  log_line("etcd: loaded revision " + std::to_string(range.revision) + " (" + std::to_string(map_.size()) + " keys)");
  for (auto& w : waiters_)
    if (w.reload && w.revision == 0) w.revision = range.revision;
  start_watch(range.revision + 1);
}

void EtcdFollower::on_written(const LoaderItem& item, const Deliver& deliver) {
  if (!item.error.empty()) {
    deliver(item.connection, protocol::encode_error(core::escape_for_log(item.error, 4096)));
    return;
  }
  if (item.revision <= revision_ && last_result_) {
    control::Json r = *last_result_;
    r["revision"] = revision_;
    deliver(item.connection, protocol::encode_ok(std::move(r)));
    return;
  }
  waiters_.push_back({item.connection, item.revision, false});
}

void EtcdFollower::next_batch() {
  if (in_flight_ || push_open_ || !have_map_ || (pending_.empty() && !need_full_)) return;
  std::vector<etcd::Event> events;
  events.swap(pending_);
  std::optional<std::vector<follow::GroupChange>> fast;
  if (consistent_ && !need_full_) fast = follow::membership_only(src_.prefix, map_, events);
  follow::apply_events(map_, events);
  if (!events.empty()) map_revision_ = events.back().kv.mod_revision;
  const int64_t revision = map_revision_;
  control::ChangeJob job;
  job.request.kind = control::ChangeRequest::Kind::kEtcd;
  if (fast) {
    for (auto& c : *fast) job.request.memberships.push_back({std::move(c.key), std::move(c.vm), std::move(c.groups)});
  } else {
    auto kvs = std::make_shared<const fleet::KeyValues>(map_);
    job.request.make_policy = [kvs, prefix = src_.prefix, appliance = src_.appliance] {
      return fleet::decode_policy(*kvs, prefix, appliance);
    };
  }
  job.peer.uid = 0;
  job.peer.connection = 0;
  const bool full = !fast;
  const uint64_t epoch = epoch_;
  job.done = [this, revision, full, epoch](const core::Expected<control::Json>& r) { on_result(r, revision, full, epoch); };
  in_flight_ = true;
  control_.submit_change(std::move(job));
}

void EtcdFollower::on_result(const core::Expected<control::Json>& r, int64_t revision, bool full, uint64_t epoch) {
  in_flight_ = false;
  std::string outcome;
  if (r) {
    revision_ = revision;
    applied_at_ = std::chrono::system_clock::now();
    last_error_.reset();
    last_result_ = *r;
    if (epoch == epoch_) {
      consistent_ = true;
      need_full_ = false;
    }
    copy_due_ = true;
    log_line("etcd: applied revision " + std::to_string(revision) + " (generation " +
             std::to_string((*r)["generation"].get<uint64_t>()) + ", " + (full ? "full decode" : "membership") + ", " +
             std::to_string((*r)["total_ms"].get<double>()) + " ms)");
  } else {
    ++refused_;
    std::string msg = r.error().message;
    if (msg.compare(0, src_.prefix.size(), src_.prefix) != 0) msg = src_.prefix + ": " + msg;
    last_error_ = msg;
    if (epoch == epoch_) {  // the map as it is now was judged: the next batch re-validates it whole
      consistent_ = false;
      need_full_ = false;
    }
    log_line("etcd: refused revision " + std::to_string(revision) + ": " + msg);
  }
  std::vector<Waiter> keep;
  for (const auto& w : waiters_) {
    if (w.revision == 0 || w.revision > revision) {
      keep.push_back(w);
    } else if (r) {
      control::Json reply = *r;
      reply["revision"] = revision;
      replies_.emplace_back(w.connection, protocol::encode_ok(std::move(reply)));
    } else {
      replies_.emplace_back(w.connection, protocol::encode_error(core::escape_for_log(*last_error_, 4096)));
    }
  }
  waiters_.swap(keep);
}

void EtcdFollower::persist_if_due() {
  auto now = std::chrono::steady_clock::now();
  if (!copy_due_ || now - copy_offered_ < kCopyEvery) return;
  copy_due_ = false;
  copy_offered_ = now;
  auto copy = std::make_shared<const policy::Policy>(publisher_->current()->policy());
  writer_->offer(std::move(copy), follow::CopyHeader{src_.prefix, revision_, src_.appliance});
}

std::optional<std::string> EtcdFollower::change(control::ChangeRequest request, const control::Peer& peer) {
  if (request.kind == control::ChangeRequest::Kind::kReload) {
    if (request.text) return protocol::encode_error("the policy comes from etcd: use sgfwctl policy push");
    log_line("etcd: reload by uid " + std::to_string(peer.uid) + ": full load of " + src_.prefix);
    waiters_.push_back({peer.connection, 0, true});
    loader_->request_full_load();
    return std::nullopt;
  }
  if (request.kind != control::ChangeRequest::Kind::kSetGroups) return protocol::encode_error("not a change request");
  std::vector<std::string> groups;
  for (const auto& g : request.groups) {
    std::string t = trim(g);
    if (t.empty()) return protocol::encode_error("an empty security group name");
    // Checked against the running policy before anything is written: an unknown group
    // written to etcd would be refused by every appliance of the fleet.
    if (!publisher_->current()->policy().find_group(t))
      return protocol::encode_error("unknown security group '" + core::escape_for_log(t) + "'");
    groups.push_back(std::move(t));
  }
  log_line("etcd: vm set-groups " + request.vm + " by uid " + std::to_string(peer.uid) + ": writing " + src_.prefix +
           "vms/" + request.vm);
  loader_->request_set_groups(peer.connection, request.vm, std::move(groups));
  return std::nullopt;
}

control::Json EtcdFollower::status() const {
  double applied = std::chrono::duration<double>(applied_at_.time_since_epoch()).count();
  return control::Json{{"kind", "etcd"},
                       {"endpoints", src_.endpoints},
                       {"prefix", src_.prefix},
                       {"appliance", src_.appliance},
                       {"revision", revision_},
                       {"connected", connected_},
                       {"applied_at_unix", applied},
                       {"refused", refused_},
                       {"last_error", last_error_ ? control::Json(*last_error_) : control::Json(nullptr)},
                       {"persisted", copy_path_}};
}

std::string EtcdFollower::metrics() const {
  return "# HELP sgfw_policy_etcd_revision The etcd revision the running policy reflects.\n"
         "# TYPE sgfw_policy_etcd_revision gauge\n"
         "sgfw_policy_etcd_revision " + std::to_string(revision_) +
         "\n# HELP sgfw_policy_etcd_connected 1 while the daemon's watch (or load) reaches etcd.\n"
         "# TYPE sgfw_policy_etcd_connected gauge\n"
         "sgfw_policy_etcd_connected " + std::string(connected_ ? "1" : "0") +
         "\n# HELP sgfw_policy_etcd_refused_batches_total Batches from etcd refused as invalid.\n"
         "# TYPE sgfw_policy_etcd_refused_batches_total counter\n"
         "sgfw_policy_etcd_refused_batches_total " + std::to_string(refused_) + "\n";
}

}  // namespace sgfw::daemon
