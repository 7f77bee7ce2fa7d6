#include "daemon/etcd_loader.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/escape.hpp"
#include "fleet/key_layout.hpp"

namespace sgfw::daemon {

core::Expected<std::unique_ptr<EtcdLoader>> EtcdLoader::create(std::shared_ptr<etcd::Client> client,
                                                               std::string prefix) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return core::make_error("etcd follower: cannot create an eventfd");
  return std::unique_ptr<EtcdLoader>(new EtcdLoader(std::move(client), std::move(prefix), fd));
}

EtcdLoader::EtcdLoader(std::shared_ptr<etcd::Client> client, std::string prefix, int wake_fd)
    : client_(std::move(client)), prefix_(std::move(prefix)), wake_fd_(wake_fd), thread_([this] { run(); }) {}

EtcdLoader::~EtcdLoader() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  close(wake_fd_);
}

void EtcdLoader::post(LoaderItem item) {
  {
    std::lock_guard<std::mutex> l(mu_);
    inbox_.push_back(std::move(item));
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void EtcdLoader::post_update(etcd::WatchUpdate update) {
  LoaderItem item;
  item.update = std::move(update);
  post(std::move(item));
}

void EtcdLoader::request_full_load() {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& j : jobs_)
      if (j.full_load) return;  // one is waiting already: it reads the latest revision
    jobs_.push_back(Job{true, 0, {}, {}});
  }
  cv_.notify_all();
}

void EtcdLoader::request_set_groups(uint64_t connection, std::string vm, std::vector<std::string> groups) {
  {
    std::lock_guard<std::mutex> l(mu_);
    jobs_.push_back(Job{false, connection, std::move(vm), std::move(groups)});
  }
  cv_.notify_all();
}

std::vector<LoaderItem> EtcdLoader::drain() {
  uint64_t n = 0;
  (void)!read(wake_fd_, &n, sizeof(n));
  std::lock_guard<std::mutex> l(mu_);
  std::vector<LoaderItem> out;
  out.swap(inbox_);
  return out;
}

void EtcdLoader::run() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    l.unlock();
    if (job.full_load) full_load();
    else post(set_groups(job.connection, job.vm, job.groups));
    l.lock();
  }
}

void EtcdLoader::full_load() {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    auto r = client_->range_prefix(prefix_);
    if (r) {
      LoaderItem item;
      item.kind = LoaderItem::Kind::kLoaded;
      item.range = std::move(*r);
      item.endpoint = client_->current_endpoint();
      item.client = client_;
      post(std::move(item));
      return;
    }
    LoaderItem failed;
    failed.kind = LoaderItem::Kind::kLoadFailed;
    failed.error = r.error().message;
    post(std::move(failed));
    {
      std::unique_lock<std::mutex> l(mu_);
      if (cv_.wait_for(l, backoff, [this] { return stop_; })) return;
      // set-groups requests do not wait behind a load that may never end: each gets
      // its answer (while etcd is unreachable, its error) now.
      std::deque<Job> others;
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->full_load) {
          ++it;
        } else {
          others.push_back(std::move(*it));
          it = jobs_.erase(it);
        }
      }
      l.unlock();
      for (const auto& j : others) post(set_groups(j.connection, j.vm, j.groups));
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    // A fresh channel for the next try: one that never connected comes back late
    // (measured: ~14 s after the member is up) under gRPC's own reconnection.
    if (auto fresh = etcd::Client::create(client_->options())) client_ = std::move(*fresh);
  }
}

LoaderItem EtcdLoader::set_groups(uint64_t connection, const std::string& vm, const std::vector<std::string>& groups) {
  LoaderItem item;
  item.kind = LoaderItem::Kind::kWritten;
  item.connection = connection;
  const std::string key = fleet::key_for(prefix_, fleet::Kind::kVm, vm);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto page = client_->range(key, {});
    if (!page) {
      item.error = page.error().message;
      return item;
    }
    if (page->result.kvs.empty()) {
      item.error = "unknown VM '" + core::escape_for_log(vm) + "' (no key " + core::escape_for_log(key) + " in etcd)";
      return item;
    }
    const etcd::KeyValue& kv = page->result.kvs.front();
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(kv.value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      item.error = core::escape_for_log(key) + ": the value is not a JSON object";
      return item;
    }
    j["securityGroups"] = groups;
    etcd::Txn txn;
    txn.compares.push_back({key, etcd::Compare::Target::kModRevision, etcd::Compare::Result::kEqual, kv.mod_revision});
    txn.success.push_back({etcd::TxnOp::Type::kPut, key, j.dump(), {}});
    auto t = client_->txn(txn);
    if (!t) {
      item.error = t.error().message;
      return item;
    }
    if (t->succeeded) {
      item.revision = t->revision;
      return item;
    }
    // Someone else changed the VM meanwhile: read it again.
  }
  item.error = core::escape_for_log(key) + " kept changing under the write (5 tries): try again";
  return item;
}

}  // namespace sgfw::daemon
