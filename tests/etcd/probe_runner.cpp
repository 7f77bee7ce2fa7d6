// etcd_probe basic, the push runner part (fleet::push_keys, docs/fleet.md "policy push
// and pull"): a key changed by someone else between the read and the transaction makes
// the guard fail; the runner reads again and lands the push (one transaction, and a
// staged push continued behind its own marker); a conflict every time ends in a clear
// error after 1 + 3 attempts with nothing of ours written. Reported on check_push's line.
#include <iterator>

#include "bench/policy_generator.hpp"
#include "fleet/encode.hpp"
#include "fleet/push_runner.hpp"
#include "probe_common.hpp"

namespace sgfw::probe {

namespace {

fleet::KeyValues read_values(etcd::Client& c, const std::string& prefix) {
  auto snap = must(fleet::read_stored(c, prefix), "read");
  fleet::KeyValues out;
  for (auto& [k, v] : snap.keys) out[k] = std::move(v.value);
  return out;
}

fleet::KeyValues generated(size_t vms, const std::string& prefix) {
  bench::GeneratorOptions g;
  g.vms = static_cast<uint32_t>(vms);
  g.local_vms = 10;
  g.groups = 10;
  g.rules_per_group = 2;
  g.roles = 5;
  g.ports = 2;
  return must(fleet::encode_policy(must(bench::generate_policy(g), "generate"), prefix, "edge-1"), "encode");
}

}  // namespace

std::string check_push_runner(const std::shared_ptr<etcd::Client>& c, const std::string& base) {
  // One transaction: attempt 1 loses its guard to a concurrent write, attempt 2 lands.
  const std::string prefix = base + "runner/";
  auto wanted = generated(40, prefix);
  const std::string victim = wanted.begin()->first;
  fleet::PushOptions o;
  o.before_transaction = [&](int attempt, size_t) {
    if (attempt == 1) (void)must(c->put(victim, "{\"someone\":\"else\"}"), "put");
  };
  auto r = must(fleet::push_keys(*c, wanted, prefix, o), "push with one conflict");
  PROBE_CHECK(r.attempts == 2 && !r.staged && r.transactions == 1, "attempts %d staged %d txns %zu", r.attempts,
              r.staged, r.transactions);
  PROBE_CHECK(r.puts == wanted.size() && r.unchanged == 0, "puts %zu", r.puts);
  PROBE_CHECK(read_values(*c, prefix) == wanted, "the retried push did not land");

  // A conflict at every attempt: the error, and none of our writes (only the other's).
  auto changed = wanted;
  for (auto& [k, v] : changed) v = "{\"name\":\"x\"}";
  size_t conflicts = 0;
  o.before_transaction = [&](int, size_t) {
    ++conflicts;
    (void)must(c->put(victim, "{\"conflict\":" + std::to_string(conflicts) + "}"), "put");
  };
  auto gave_up = fleet::push_keys(*c, changed, prefix, o);
  PROBE_CHECK(!gave_up && gave_up.error().message.rfind("policy push: gave up after 4 attempts: keys under ", 0) == 0,
              "%s", gave_up ? "pushed" : gave_up.error().message.c_str());
  PROBE_CHECK(conflicts == 4, "%zu transactions tried", conflicts);
  auto now = read_values(*c, prefix);
  now.erase(victim);
  auto before = wanted;
  before.erase(victim);
  PROBE_CHECK(now == before, "a push that gave up wrote keys");

  // Staged (300 keys, 3 steps): the second step's guard fails; the runner keeps its
  // marker, plans the rest and finishes; the marker is gone at the end.
  const std::string sprefix = base + "runner-staged/";
  auto big = generated(290, sprefix);
  std::string late_key = std::prev(big.end())->first;  // written by the last step
  fleet::PushOptions so;
  so.before_transaction = [&](int attempt, size_t txn) {
    if (attempt == 1 && txn == 2) (void)must(c->put(late_key, "{\"someone\":\"else\"}"), "put");
  };
  auto s = must(fleet::push_keys(*c, big, sprefix, so), "staged push with a conflict");
  PROBE_CHECK(s.staged && s.attempts == 2, "staged %d attempts %d", s.staged, s.attempts);
  PROBE_CHECK(s.puts == big.size(), "staged puts %zu of %zu", s.puts, big.size());
  auto landed = must(fleet::read_stored(*c, sprefix), "read");
  PROBE_CHECK(!landed.keys.count(fleet::push_marker_key(sprefix)), "the marker stayed");
  PROBE_CHECK(read_values(*c, sprefix) == big, "the continued staged push did not land whole");
  // A stale marker: refused, then --force.
  (void)must(c->put(fleet::push_marker_key(sprefix), "{\"id\":\"dead\"}"), "put marker");
  auto refused = fleet::push_keys(*c, big, sprefix, {});
  PROBE_CHECK(!refused && refused.error().message.find("a push is in progress") != std::string::npos, "%s",
              refused ? "pushed" : refused.error().message.c_str());
  fleet::PushOptions force;
  force.force = true;
  auto forced = must(fleet::push_keys(*c, big, sprefix, force), "push --force");
  PROBE_CHECK(forced.stale_marker_revision > 0 && forced.puts == 0, "force: marker %lld puts %zu",
              (long long)forced.stale_marker_revision, forced.puts);
  return "runner_conflicts=" + std::to_string(conflicts) + " runner_staged_keys=" + std::to_string(big.size());
}

}  // namespace sgfw::probe
