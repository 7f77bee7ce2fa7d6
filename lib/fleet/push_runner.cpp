#include "fleet/push_runner.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "core/escape.hpp"

namespace sgfw::fleet {

namespace {

using C = etcd::Compare;
using Op = etcd::TxnOp;

std::string shown(std::string_view s) { return core::escape_for_log(s, 300); }

// Who pushes: "host/pid/unix-ms", so a pusher recognises its own marker after a write
// whose outcome was unknown.
std::string default_push_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  return std::string(host) + "/" + std::to_string(getpid()) + "/" + std::to_string(ms);
}

std::string marker_value(const std::string& id, size_t keys) {
  nlohmann::json j = {{"id", id}, {"keys", keys},
                      {"started_unix", std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch()).count()}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Each write guarded by the revision it was planned against (0: the key is absent).
void add_writes(const std::vector<Write>& step, etcd::Txn& t) {
  for (const auto& w : step) {
    t.compares.push_back({w.key, C::Target::kModRevision, C::Result::kEqual, w.expected_mod_revision});
    if (w.type == Write::Type::kPut)
      t.success.push_back({Op::Type::kPut, w.key, w.value, {}});
    else
      t.success.push_back({Op::Type::kDelete, w.key, {}, {}});
  }
}

// The writes a push made, each key once (a key written again after a retry counts once).
struct Tally {
  std::set<std::string> put, deleted;
  void add(const std::vector<Write>& step) {
    for (const auto& w : step) (w.type == Write::Type::kPut ? put : deleted).insert(w.key);
  }
};

class Pusher {
 public:
  Pusher(etcd::Client& client, const KeyValues& wanted, std::string_view prefix, const PushOptions& options)
      : client_(client), wanted_(wanted), prefix_(prefix), options_(options), marker_(push_marker_key(prefix)),
        marker_value_(marker_value(options.push_id.empty() ? default_push_id() : options.push_id, wanted.size())) {}

  core::Expected<PushOutcome> run() {
    for (int attempt = 0; attempt <= options_.retries; ++attempt) {
      auto snap = read_stored(client_, prefix_);
      if (!snap) return core::make_error(snap.error().message + left_behind());
      ++out_.attempts;
      txn_in_attempt_ = 0;
      auto st = once(*snap);
      if (!st) return core::make_error(st.error().message);
      if (*st) return finish();
    }
    return core::make_error("policy push: gave up after " + std::to_string(out_.attempts) +
                            " attempts: " + last_problem_ + left_behind());
  }

 private:
  // One attempt on a fresh read: true when done, false to read again, or an error.
  core::Expected<bool> once(StoredSnapshot& snap) {
    auto m = snap.keys.find(marker_);
    if (m != snap.keys.end() && own_marker_ == 0 && m->second.value == marker_value_) {
      own_marker_ = m->second.mod_revision;  // ours: the opening write's outcome was unknown
      out_.staged = true;
    }
    if (own_marker_ != 0) {
      if (m == snap.keys.end()) {
        // Our last step (which deletes the marker) may have landed though its reply was lost.
        auto plan = plan_push(snap.keys, wanted_, prefix_, options_.limits);
        if (plan && plan->empty()) {
          own_marker_ = 0;
          out_.revision = snap.revision;
          return true;
        }
        return core::make_error("policy push: " + shown(marker_) +
                                " was removed by someone else during a staged push; part of the policy was "
                                "written: push again");
      }
      if (m->second.mod_revision != own_marker_)
        return core::make_error("policy push: " + shown(marker_) +
                                " was replaced by another pusher during a staged push; part of the policy was "
                                "written: push again when that push is done");
      snap.keys.erase(m);
    } else if (m != snap.keys.end()) {
      if (!options_.force || out_.stale_marker_revision != 0)
        return core::make_error("a push is in progress: " + shown(marker_) + " exists (revision " +
                                std::to_string(m->second.mod_revision) + ", " + shown(m->second.value) +
                                "); if its pusher died, run policy push --force");
      auto removed = remove_stale(m->second.mod_revision);
      if (!removed) return core::make_error(removed.error().message);
      if (!*removed) return false;
      snap.keys.erase(m);
      snap.revision = out_.revision;
    }
    auto plan = plan_push(snap.keys, wanted_, prefix_, options_.limits);
    if (!plan) return core::make_error(plan.error().message);
    if (own_marker_ == 0 && plan->empty()) {
      out_.revision = snap.revision;
      return true;
    }
    if (own_marker_ == 0 && !plan->staged()) return one_transaction(plan->steps[0]);
    if (own_marker_ == 0) {
      auto opened = open_marker();
      if (!opened || !*opened) return opened;
    }
    return staged_steps(*plan);
  }

  // --force: the marker found is removed, guarded by its revision (nobody took it over).
  core::Expected<bool> remove_stale(int64_t revision) {
    etcd::Txn t;
    t.compares.push_back({marker_, C::Target::kModRevision, C::Result::kEqual, revision});
    t.success.push_back({Op::Type::kDelete, marker_, {}, {}});
    auto r = client_.txn(t);
    if (!r) return core::make_error(r.error().message);
    if (!r->succeeded) {
      last_problem_ = shown(marker_) + " changed while --force removed it";
      return false;
    }
    ++out_.transactions;
    out_.stale_marker_revision = revision;
    out_.revision = r->revision;
    return true;
  }

  core::Expected<bool> one_transaction(const std::vector<Write>& step) {
    etcd::Txn t;
    t.compares.push_back({marker_, C::Target::kVersion, C::Result::kEqual, 0});
    add_writes(step, t);
    auto r = txn(t);
    if (!r) return unknown(r.error().message);
    if (!r->succeeded) return guard_failed();
    ++out_.transactions;
    tally_.add(step);
    out_.revision = r->revision;
    return true;
  }

  core::Expected<bool> open_marker() {
    etcd::Txn t;
    t.compares.push_back({marker_, C::Target::kVersion, C::Result::kEqual, 0});
    t.success.push_back({Op::Type::kPut, marker_, marker_value_, {}});
    auto r = txn(t);
    if (!r) return unknown(r.error().message);
    if (!r->succeeded) {
      last_problem_ = "another push started first";
      return false;
    }
    ++out_.transactions;
    own_marker_ = r->revision;
    out_.staged = true;
    return true;
  }

  // Every step guarded by the marker's revision (nobody took over) and its own keys'; the
  // last deletes the marker. An empty plan (a retry found everything written) only
  // deletes it.
  core::Expected<bool> staged_steps(const PushPlan& plan) {
    size_t n = std::max<size_t>(plan.steps.size(), 1);
    for (size_t i = 0; i < n; ++i) {
      etcd::Txn t;
      t.compares.push_back({marker_, C::Target::kModRevision, C::Result::kEqual, own_marker_});
      if (i < plan.steps.size()) add_writes(plan.steps[i], t);
      if (i + 1 == n) t.success.push_back({Op::Type::kDelete, marker_, {}, {}});
      auto r = txn(t);
      if (!r) return unknown(r.error().message);
      if (!r->succeeded) return guard_failed();
      ++out_.transactions;
      if (i < plan.steps.size()) tally_.add(plan.steps[i]);
      out_.revision = r->revision;
    }
    own_marker_ = 0;
    return true;
  }

  core::Expected<etcd::TxnResult> txn(const etcd::Txn& t) {
    if (options_.before_transaction) options_.before_transaction(out_.attempts, txn_in_attempt_);
    ++txn_in_attempt_;
    return client_.txn(t);
  }

  core::Expected<bool> unknown(const std::string& message) {
    last_problem_ = message;  // the write may or may not have landed: the next read tells
    return false;
  }
  core::Expected<bool> guard_failed() {
    last_problem_ = "keys under " + shown(prefix_) + " changed since they were read (someone else writes)";
    return false;
  }

  std::string left_behind() const {
    if (own_marker_ == 0) return {};
    return "; " + shown(marker_) + " stays (revision " + std::to_string(own_marker_) +
           "): the appliances keep their last policy until a push completes (policy push --force)";
  }

  PushOutcome finish() {
    out_.puts = tally_.put.size();
    out_.deletes = tally_.deleted.size();
    size_t written = 0;
    for (const auto& k : tally_.put) written += wanted_.count(k);
    out_.unchanged = wanted_.size() - written;
    return out_;
  }

  etcd::Client& client_;
  const KeyValues& wanted_;
  std::string_view prefix_;
  const PushOptions& options_;
  const std::string marker_;
  const std::string marker_value_;
  int64_t own_marker_ = 0;  // mod_revision of our marker while a staged push is open
  size_t txn_in_attempt_ = 0;
  std::string last_problem_;
  Tally tally_;
  PushOutcome out_;
};

}  // namespace

core::Expected<StoredSnapshot> read_stored(etcd::Client& client, std::string_view prefix) {
  auto r = client.range_prefix(prefix);
  if (!r) return core::make_error(r.error().message);
  StoredSnapshot out;
  out.revision = r->revision;
  for (auto& kv : r->kvs) out.keys[kv.key] = {std::move(kv.value), kv.mod_revision};
  return out;
}

core::Expected<PushOutcome> push_keys(etcd::Client& client, const KeyValues& wanted, std::string_view prefix,
                                      const PushOptions& options) {
  if (auto st = check_prefix(prefix); !st) return core::make_error(st.error().message);
  if (options.retries < 0) return core::make_error("policy push: retries must be 0 or more");
  return Pusher(client, wanted, prefix, options).run();
}

}  // namespace sgfw::fleet
