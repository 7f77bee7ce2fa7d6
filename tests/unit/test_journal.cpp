// The set-groups change journal (docs/design/update-protocol.md, "The change journal"):
// records round-trip through the file and replay onto the policy; a torn last record
// is left out with a note; damage anywhere else, a record naming an unknown VM, or
// garbage is an error naming the file and line; a journal for other file content is
// not applied; a reset (compaction) leaves an empty journal for the new content.
#define BOOST_TEST_MODULE journal
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/policy_loader.hpp"
#include "control/change_journal.hpp"
#include "control/journal_format.hpp"

using namespace sgfw;
using control::ChangeJournal;
using control::JournalRecord;

namespace {

const std::string kSha(64, 'a');
const std::string kOtherSha(64, 'b');

const char* kPolicy =
    "securityGroups:\n"
    "  - name: web\n"
    "    rules:\n"
    "      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "  - name: ops\n"
    "    rules:\n"
    "      - {name: ssh, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 10.0.0.0/8}}}\n"
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [web]}\n"
    "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [web]}\n";

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/sgfw-journal-test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { std::filesystem::remove_all(path); }
  std::string journal() const { return path + "/policy.yaml.journal"; }
};

policy::Policy load() {
  auto p = config::load_policy_text(kPolicy, "policy.yaml");
  BOOST_REQUIRE(p);
  return *p;
}

std::string slurp(const std::string& f) {
  std::ifstream in(f, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& f, const std::string& text) { std::ofstream(f, std::ios::binary) << text; }

// A journal with three records: b -> ops, a -> none, b -> web,ops.
std::string three_records(const Dir& d) {
  auto j = ChangeJournal::create(d.journal(), kSha);
  BOOST_REQUIRE(j);
  BOOST_REQUIRE(j->append({"b", {"ops"}}));
  BOOST_REQUIRE(j->append({"a", {}}));
  BOOST_REQUIRE(j->append({"b", {"web", "ops"}}));
  BOOST_TEST(j->records() == 3u);
  return slurp(d.journal());
}

}  // namespace

BOOST_AUTO_TEST_CASE(records_round_trip_and_replay_in_order) {
  Dir d;
  std::string text = three_records(d);
  BOOST_TEST(text.substr(0, 15) == "sgfw-journal 1 ");
  auto parsed = control::parse_journal(text);
  BOOST_REQUIRE(parsed);
  BOOST_TEST(parsed->base_sha256 == kSha);
  BOOST_REQUIRE(parsed->records.size() == 3u);
  BOOST_TEST((parsed->records[2] == JournalRecord{"b", {"web", "ops"}}));
  BOOST_TEST(parsed->records[1].groups.empty());
  policy::Policy p = load();
  auto r = control::replay_journal(d.journal(), kSha, p);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->applied == 3u);
  BOOST_TEST(r->notes.empty());
  BOOST_TEST((p.find_vm("b")->groups == std::vector<std::string>{"web", "ops"}));
  BOOST_TEST(p.find_vm("a")->groups.empty());
}

BOOST_AUTO_TEST_CASE(no_journal_is_nothing_to_do) {
  Dir d;
  policy::Policy p = load();
  auto r = control::replay_journal(d.journal(), kSha, p);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->applied == 0u);
}

BOOST_AUTO_TEST_CASE(a_torn_last_record_is_left_out_with_a_note) {
  Dir d;
  std::string text = three_records(d);
  // Cut inside the last record (no newline), then a last line with a bad checksum.
  for (const std::string& torn : {text.substr(0, text.size() - 7), text.substr(0, text.size() - 3) + "zz\n",
                                  text.substr(0, text.size() - 1) + std::string(5, '\0')}) {
    spit(d.journal(), torn);
    policy::Policy p = load();
    auto r = control::replay_journal(d.journal(), kSha, p);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    BOOST_TEST(r->applied == 2u);
    BOOST_REQUIRE(r->notes.size() == 1u);
    BOOST_TEST(r->notes[0].find("line 4 is cut short") != std::string::npos, r->notes[0]);
    BOOST_TEST((p.find_vm("b")->groups == std::vector<std::string>{"ops"}));
  }
}

BOOST_AUTO_TEST_CASE(damage_before_the_last_record_is_refused) {
  Dir d;
  std::string text = three_records(d);
  std::string bad = text;
  size_t second = bad.find("set-groups b ops");
  bad[second + 13] = 'p';  // "ops" -> "pps" in line 2: its checksum no longer matches
  spit(d.journal(), bad);
  policy::Policy p = load();
  auto r = control::replay_journal(d.journal(), kSha, p);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find(d.journal() + ": line 2: bad checksum") == 0, r.error().message);
  BOOST_TEST(r.error().message.find("move the journal away") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_record_naming_an_unknown_vm_is_refused) {
  Dir d;
  auto j = ChangeJournal::create(d.journal(), kSha);
  BOOST_REQUIRE(j);
  BOOST_REQUIRE(j->append({"b", {"ops"}}));
  BOOST_REQUIRE(j->append({"ghost", {"web"}}));
  BOOST_REQUIRE(j->append({"a", {"ops"}}));
  policy::Policy p = load();
  auto r = control::replay_journal(d.journal(), kSha, p);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message.find(d.journal() + ": line 3: unknown VM 'ghost'") == 0, r.error().message);
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
  Dir d;
  for (const std::string& junk : {std::string("hello\nworld\n"), std::string(),
                                  "sgfw-journal 1 " + kSha + "\nrm -rf / 00000000\nset-groups a web 00000000\n"}) {
    spit(d.journal(), junk);
    policy::Policy p = load();
    auto r = control::replay_journal(d.journal(), kSha, p);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message.find(d.journal() + ": line ") == 0, r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(a_journal_for_other_content_is_not_applied) {
  Dir d;
  three_records(d);
  policy::Policy p = load();
  auto r = control::replay_journal(d.journal(), kOtherSha, p);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->applied == 0u);
  BOOST_REQUIRE(r->notes.size() == 1u);
  BOOST_TEST(r->notes[0].find("other policy file content") != std::string::npos);
  BOOST_TEST((p.find_vm("b")->groups == std::vector<std::string>{"web"}));
}

// Compaction: after the policy file is rewritten, reset leaves an empty journal for the
// new content; appends go on after the new header.
BOOST_AUTO_TEST_CASE(reset_starts_an_empty_journal_for_new_content) {
  Dir d;
  auto j = ChangeJournal::create(d.journal(), kSha);
  BOOST_REQUIRE(j);
  BOOST_REQUIRE(j->append({"b", {"ops"}}));
  BOOST_REQUIRE(j->reset(kOtherSha));
  BOOST_TEST(j->records() == 0u);
  BOOST_TEST(slurp(d.journal()) == control::journal_header(kOtherSha));
  BOOST_REQUIRE(j->append({"a", {"ops"}}));
  auto parsed = control::parse_journal(slurp(d.journal()));
  BOOST_REQUIRE(parsed);
  BOOST_TEST(parsed->base_sha256 == kOtherSha);
  BOOST_REQUIRE(parsed->records.size() == 1u);
  BOOST_TEST(parsed->records[0].vm == "a");
  BOOST_TEST(j->bytes() == slurp(d.journal()).size());
}

BOOST_AUTO_TEST_CASE(crc32c_known_value) {
  BOOST_TEST(control::crc32c("123456789") == 0xe3069283u);  // the CRC-32C check value
}

// Start-up goes on with the journal it replayed: open() keeps its records for the same
// content, cuts a torn last record off (the next record must not follow it), and starts
// an empty journal for other content.
BOOST_AUTO_TEST_CASE(open_keeps_the_records_and_cuts_a_torn_end) {
  Dir d;
  std::string text = three_records(d);
  spit(d.journal(), text.substr(0, text.size() - 6));  // the third record torn
  auto j = ChangeJournal::open(d.journal(), kSha);
  BOOST_REQUIRE(j);
  BOOST_TEST(j->records() == 2u);
  BOOST_REQUIRE(j->append({"a", {"web"}}));
  auto parsed = control::parse_journal(slurp(d.journal()));
  BOOST_REQUIRE(parsed);
  BOOST_TEST(parsed->torn_line == 0u);
  BOOST_REQUIRE(parsed->records.size() == 3u);
  BOOST_TEST((parsed->records[2] == JournalRecord{"a", {"web"}}));
  auto other = ChangeJournal::open(d.journal(), kOtherSha);
  BOOST_REQUIRE(other);
  BOOST_TEST(other->records() == 0u);
  BOOST_TEST(slurp(d.journal()) == control::journal_header(kOtherSha));
  spit(d.journal(), "garbage\n");
  BOOST_TEST(!ChangeJournal::open(d.journal(), kSha));  // never overwritten silently
}
