// The control plane persists set-groups in the change journal (docs/design/
// update-protocol.md, "The change journal"): the policy file stays as it was, the
// journal holds the record, and the file plus the replayed journal is the running
// policy; a journal past the threshold is compacted into the file; a reload replaces
// the file and starts an empty journal. Real ControlPlane and snapshots on the rig.
#define BOOST_TEST_MODULE control_journal
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "config/policy_loader.hpp"
#include "control/change_journal.hpp"
#include "rig.hpp"

using namespace sgfw;
using namespace sgfw::scenario;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const char* kPolicy =
    "securityGroups:\n"
    "  - name: web\n"
    "    rules:\n"
    "      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "  - name: ops\n"
    "    rules:\n"
    "      - {name: ssh, direction: Ingress, protocol: TCP, port: 22, remote: {securityGroupRef: {name: web}}}\n"
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [web]}\n"
    "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [web]}\n";

std::string slurp(const std::string& f) {
  std::ifstream in(f, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What a restart would run: the policy file plus its journal.
policy::Policy restart_view(const Rig& rig) {
  std::string text = slurp(rig.policy_path());
  auto p = config::load_policy_text(text, rig.policy_path());
  BOOST_REQUIRE(p);
  auto r = control::replay_journal(control::ChangeJournal::path_for(rig.policy_path()), control::sha256_hex(text), *p);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *p;
}

std::vector<std::string> groups_of(const policy::Policy& p, const std::string& vm) { return p.find_vm(vm)->groups; }

control::Peer root() { return control::Peer{0, 0, 1, 1}; }

}  // namespace

BOOST_AUTO_TEST_CASE(set_groups_appends_to_the_journal_and_leaves_the_file) {
  Rig rig(kPolicy);
  auto& c = rig.control();
  BOOST_REQUIRE(c.open_journal());
  const std::string journal = control::ChangeJournal::path_for(rig.policy_path());
  BOOST_TEST(slurp(journal) == control::journal_header(control::sha256_hex(kPolicy)));
  auto r = c.set_groups("b", {"ops"}, root());
  BOOST_REQUIRE(r);
  BOOST_TEST(slurp(rig.policy_path()) == kPolicy);  // not rewritten
  auto parsed = control::parse_journal(slurp(journal));
  BOOST_REQUIRE(parsed);
  BOOST_REQUIRE(parsed->records.size() == 1u);
  BOOST_TEST((parsed->records[0] == control::JournalRecord{"b", {"ops"}}));
  BOOST_TEST((groups_of(restart_view(rig), "b") == std::vector<std::string>{"ops"}));
  BOOST_REQUIRE(c.set_groups("a", {}, root()));
  BOOST_TEST(groups_of(restart_view(rig), "a").empty());
  // status: the file's hash (the journal applies on top).
  BOOST_TEST(c.status()["policy"]["sha256"].get<std::string>() == control::sha256_hex(kPolicy));
}

BOOST_AUTO_TEST_CASE(a_long_journal_is_compacted_into_the_file) {
  Rig rig(kPolicy);
  auto& c = rig.control();
  BOOST_REQUIRE(c.open_journal());
  c.set_compact_bytes(300);  // the header (80 bytes) and a few records
  const std::string journal = control::ChangeJournal::path_for(rig.policy_path());
  bool compacted = false;
  for (int i = 0; i < 12 && !compacted; ++i) {
    BOOST_REQUIRE(c.set_groups("b", i % 2 ? std::vector<std::string>{"web"} : std::vector<std::string>{"web", "ops"}, root()));
    compacted = slurp(rig.policy_path()) != kPolicy;
    if (compacted) {
      // The file holds the running policy; the journal is empty and names the new file.
      std::string text = slurp(rig.policy_path());
      BOOST_TEST(slurp(journal) == control::journal_header(control::sha256_hex(text)));
      auto p = config::load_policy_text(text, rig.policy_path());
      BOOST_REQUIRE(p);
      BOOST_TEST(groups_of(*p, "b") == rig.publisher().current()->policy().find_vm("b")->groups);
    }
  }
  BOOST_TEST(compacted);
  BOOST_REQUIRE(c.set_groups("a", {"ops"}, root()));  // journaled after the compaction
  BOOST_TEST((groups_of(restart_view(rig), "a") == std::vector<std::string>{"ops"}));
}

BOOST_AUTO_TEST_CASE(a_reload_replaces_the_file_and_empties_the_journal) {
  Rig rig(kPolicy);
  auto& c = rig.control();
  BOOST_REQUIRE(c.open_journal());
  BOOST_REQUIRE(c.set_groups("b", {"ops"}, root()));
  std::string edited = std::string(kPolicy) + "# edited\n";
  BOOST_REQUIRE(c.reload(&edited, "edited.yaml", root()));
  BOOST_TEST(slurp(rig.policy_path()) == edited);
  BOOST_TEST(slurp(control::ChangeJournal::path_for(rig.policy_path())) ==
             control::journal_header(control::sha256_hex(edited)));
  BOOST_TEST((groups_of(restart_view(rig), "b") == std::vector<std::string>{"web"}));
}
