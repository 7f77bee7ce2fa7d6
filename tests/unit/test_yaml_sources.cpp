// The two YAML event sources of load_one_document (lib/config/yaml_sources.hpp):
// wherever libyaml vouches for a text, its tree equals yaml-cpp's node for node (kind,
// scalar, mark pos/line/column); where it declines, load_one_document gives yaml-cpp's
// tree or error. Texts: every YAML file of the repository, the config fuzz corpora, a
// written generated policy, and hand-written edge cases.
#define BOOST_TEST_MODULE yaml_sources
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bench/policy_generator.hpp"
#include "config/yaml_reader.hpp"
#include "config/yaml_sources.hpp"
#include "../fuzz/entries/yaml_compare.hpp"

using namespace sgfw;
using fuzz::YamlAgreement;

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path source_dir() {
  const char* d = std::getenv("SGFW_SOURCE_DIR");
  BOOST_REQUIRE_MESSAGE(d != nullptr, "SGFW_SOURCE_DIR is not set (run through meson test)");
  return d;
}

// What load_one_document returns, as text: the tree's first difference from yaml-cpp's
// is checked elsewhere; here the error message, or "<loaded>".
std::string outcome(std::string_view text) {
  try {
    (void)config::load_one_document(text, "t.yaml", "policy file");
    return "<loaded>";
  } catch (const config::LoadError& e) {
    return e.what();
  } catch (const YAML::Exception& e) {
    return config::located("t.yaml", e.mark, e.msg);
  }
}

// The raw string literals R"(...)" of a C++ source.
std::vector<std::string> raw_strings(const std::string& src) {
  std::vector<std::string> out;
  for (size_t at = src.find("R\"("); at != std::string::npos; at = src.find("R\"(", at)) {
    const size_t end = src.find(")\"", at + 3);
    if (end == std::string::npos) break;
    out.push_back(src.substr(at + 3, end - at - 3));
    at = end + 2;
  }
  return out;
}

// The ```yaml blocks of a Markdown file.
std::vector<std::string> fenced_yaml(const std::string& md) {
  std::vector<std::string> out;
  for (size_t at = md.find("```yaml\n"); at != std::string::npos; at = md.find("```yaml\n", at)) {
    const size_t end = md.find("```", at + 8);
    if (end == std::string::npos) break;
    out.push_back(md.substr(at + 8, end - at - 8));
    at = end + 3;
  }
  return out;
}

struct Tally {
  size_t same = 0, declined_rejected = 0, declined_accepted = 0;
};

// Compares the sources on one text; fails the test on a disagreement.
YamlAgreement check(std::string_view text, const std::string& name, Tally& tally) {
  const fuzz::YamlComparison c = fuzz::compare_yaml_sources(text);
  BOOST_TEST_INFO(name);
  BOOST_TEST((c.agreement != YamlAgreement::kTreesDiffer && c.agreement != YamlAgreement::kOnlyLibyamlAccepts),
             name << ": " << c.detail);
  if (c.agreement == YamlAgreement::kSameTree) ++tally.same;
  if (c.agreement == YamlAgreement::kDeclinedRejected) {
    ++tally.declined_rejected;
    BOOST_TEST(outcome(text) == c.detail, name);  // load_one_document gives yaml-cpp's message
  }
  if (c.agreement == YamlAgreement::kDeclinedAccepted) ++tally.declined_accepted;
  return c.agreement;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_repository_yaml_file_and_config_corpus) {
  const fs::path src = source_dir();
  std::vector<fs::path> files;
  for (const char* dir : {"conf", "tests"})
    for (const auto& e : fs::recursive_directory_iterator(src / dir))
      if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  const size_t yaml_files = files.size();
  // YAML fixtures inside the C++ tests (raw strings) and the examples of the docs.
  std::vector<std::pair<std::string, std::string>> texts;  // name, text
  for (const auto& e : fs::recursive_directory_iterator(src / "tests"))
    if (e.is_regular_file() && e.path().extension() == ".cpp")
      for (std::string& t : raw_strings(read_file(e.path()))) texts.emplace_back(e.path().string(), std::move(t));
  for (const char* dir : {"docs", "."})
    for (const auto& e : fs::directory_iterator(src / dir))
      if (e.is_regular_file() && e.path().extension() == ".md")
        for (std::string& t : fenced_yaml(read_file(e.path()))) texts.emplace_back(e.path().string(), std::move(t));
  const size_t embedded = texts.size();
  for (const char* target : {"policy_loader", "daemon_config", "policy_writer", "yaml_sources"})
    for (const char* kind : {"corpus", "regressions"})
      if (fs::is_directory(src / "tests/fuzz" / kind / target))
        for (const auto& e : fs::directory_iterator(src / "tests/fuzz" / kind / target))
          if (e.is_regular_file()) files.push_back(e.path());
  Tally t;
  for (const auto& p : files) texts.emplace_back(p.string(), read_file(p));
  for (const auto& [name, text] : texts) check(text, name, t);
  BOOST_TEST_MESSAGE(texts.size() << " texts (" << yaml_files << " .yaml files, " << embedded
                                  << " raw strings of tests and docs examples): " << t.same
                                  << " same tree from libyaml, " << t.declined_rejected
                                  << " declined and rejected by yaml-cpp, " << t.declined_accepted
                                  << " declined and accepted by yaml-cpp (yaml-cpp's tree used)");
  BOOST_TEST(yaml_files >= 3u);
  BOOST_TEST(embedded >= 100u);
  // Most texts take the fast path; a regression to "decline everything" would pass the
  // agreement checks above, so bound it.
  BOOST_TEST(t.same * 2 > texts.size(), t.same << " of " << texts.size());
}

BOOST_AUTO_TEST_CASE(a_written_generated_policy_takes_the_fast_path) {
  bench::GeneratorOptions o;
  o.vms = 300;
  o.local_vms = 40;
  o.groups = 30;
  o.rules_per_group = 6;
  o.roles = 10;
  o.ports = 8;
  for (auto family : {bench::Families::kIpv4, bench::Families::kDual}) {
    o.family = family;
    auto text = bench::generate_policy_yaml(o);
    BOOST_REQUIRE(text.has_value());
    Tally t;
    BOOST_TEST((check(*text, "generated", t) == YamlAgreement::kSameTree));
  }
}

// Each text, and whether libyaml vouches for it (true) or leaves it to yaml-cpp.
BOOST_AUTO_TEST_CASE(edge_cases) {
  std::string deep64, deep65;
  for (int i = 0; i < 64; ++i) deep64 += "[";
  for (int i = 0; i < 64; ++i) deep64 += "]";
  deep65 = "[" + deep64 + "]";
  std::string long_scalar = "k: " + std::string(200000, 'x') + "\n";
  std::string long_quoted = "k: \"" + std::string(100000, 'y') + "\\n" + std::string(100000, 'z') + "\"\n";
  const std::vector<std::pair<std::string, bool>> cases = {
      {"", true},
      {"# only a comment\n", true},
      {"a: ~\nb: null\nc: Null\nd: NULL\ne: nULL\nf: 'null'\ng: \"~\"\nh: ''\n", true},
      {"a:\nb: 1\n", false},        // an empty value
      {"- \n- x\n", false},         // an empty item
      {"---\n", false},             // an empty document
      {"a: !!str null\n", false},   // a tag
      {"a: !!null x\n", false},
      {"!!map {a: 1}\n", false},
      {"a: &x 1\nb: *x\n", false},  // anchors and aliases: yaml-cpp's error
      {"a: *x\n", false},
      {"a: 1\n---\nb: 2\n", false},  // two documents
      {"a: 1\n...\n", true},
      {"--- \na: 1\n", true},
      {"%YAML 1.1\n---\na: 1\n", false},
      {"{a: [1, 2, {b: c}], d: e}\n", true},
      {"[a, b: c, {d: e}]\n", true},
      {"[a, [b, [c]]]\n", true},
      {"a: |\n  line1\n   line2\n\nb: >-\n  folded\n  text\n\n  para\nc: |+\n  keep\n\n", false},  // |+
      {"a: 'it''s'\nb: \"tab\\there \\u00e9 \\x41\"\nc: plain text  # comment\n", true},
      {"a: multi\n  line\n  plain\n", true},
      {"b: 'multi\n  line'\n", false},
      {"a: 1\r\nb:\r\n  - x\r\n  - y\r\n", true},
      {"\xEF\xBB\xBF" "a: 1\nb: 2\n", true},
      {"a: 1\n\xEF\xBB\xBF" "b: 2\n", false},
      {"a:\t1\n", true},
      {"a: 1\t# tab before comment\n", true},
      {"\ta: 1\n", false},  // libyaml: a tab may not indent
      {"\xC3\xA9t\xC3\xA9: caf\xC3\xA9\nname: \xE2\x82\xAC\xF0\x9F\x98\x80 x\n", true},
      {std::string("a: 1\0b: 2\n", 10), false},  // NUL inside
      {"\xFF\xFE" "a\0:\0 \0" "1\0", false},      // UTF-16LE
      {"a: \xFF\n", false},                          // not UTF-8
      {"? a\n: b\n", true},
      {"? [a, b]\n: c\n", true},
      {"a: b: c\n", false},  // a syntax error
      {"[a, b\n", false},
      {"- a\n- b\n  - c\n", true},  // "b - c", one plain scalar
      {",", false},
      // Declined where the libraries read YAML differently (yaml_libyaml.cpp).
      {"a: x\r", false},                       // a lone CR
      {"a: 1\r\nb: x\ry\n", false},
      {"a: b\xC2\x85" "c: d\n", false},        // NEL
      {"a: x\xE2\x80\xA8y\n", false},          // LS
      {"a: \"\\N\\_\"\n", false},              // escapes yaml-cpp writes as bytes
      {"a: 'C:\\New'\n", false},                 // \N anywhere (a byte search)
      {"[a, b: c, {?d: e}]\n", false},          // ? in flow
      {"{name: up, devic?e: x}\n", false},
      {"{a: '?'}\n", false},
      {"a: '?'\nb: [x]\n", true},               // ? outside flow
      {"-\n>\n", false},                        // a block scalar at its sequence's column
      {"- >\n  x\n", true},
      {"a: >\n  x\n  \n", false},              // a blank ends a line of a block scalar
      {">\n [>\n ", false},
      {"a: |\n  x \n", false},
      {"a: |\n  x\n\n  y\nb: 1\n", true},
      {"'\r\n\r\n\n'", false},                  // CRLF inside a multi-line scalar
      {"a: 'x\r\n  y'\r\n", false},
      {"a: 'x'\r\nb: \"y\"\r\n", true},
      {"d: '\n\n\n'\n", false},                  // a quoted scalar over several lines
      {deep64, true},
      {deep65, false},
      {long_scalar, true},
      {long_quoted, true},
  };
  Tally t;
  size_t i = 0;
  for (const auto& [text, vouched] : cases) {
    const std::string name = "case " + std::to_string(i++);
    const YamlAgreement a = check(text, name, t);
    BOOST_TEST((a == YamlAgreement::kSameTree) == vouched, name << " vouched: " << !vouched);
  }
}

BOOST_AUTO_TEST_CASE(declined_texts_keep_yaml_cpp_messages) {
  BOOST_TEST(outcome("a: &x 1\n") == "t.yaml:1:4: anchors (&name) are not allowed");
  BOOST_TEST(outcome("a: 1\n---\nb: 2\n") == "t.yaml:3:1: a policy file holds one YAML document");
  std::string deep65(65, '[');
  deep65 += std::string(65, ']');
  BOOST_TEST(outcome(deep65) == "t.yaml:1:65: nested deeper than 64 levels");
}

// Marks are found by walking the text forward once: a block scalar's checks must not send
// the walk back to the start of the text (one walk per block scalar made a text of many
// block scalars take quadratic time: 40,000 of them did not finish in minutes).
BOOST_AUTO_TEST_CASE(many_block_scalars_take_one_forward_walk) {
  std::string text;
  constexpr int kScalars = 40000;
  for (int i = 0; i < kScalars; ++i) text += "k" + std::to_string(i) + ": |\n  line " + std::to_string(i) + "\n";
  std::optional<sgfw::config::YamlDocument> doc = sgfw::config::load_one_document_libyaml(text);
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(doc->root().size() == size_t{kScalars});
  BOOST_TEST(doc->root().value(kScalars - 1).Scalar() == "line 39999\n");
  BOOST_TEST(doc->root().value(kScalars - 1).Mark().line == 2 * (kScalars - 1));
}
