// The loaders' one-pass YAML tree (lib/config/yaml_tree.hpp): each node kind as the
// parser reports it, with its mark, and the rules load_one_document enforces while it
// builds (yaml_reader.hpp).
#define BOOST_TEST_MODULE yaml_tree
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "config/yaml_reader.hpp"

using namespace sgfw::config;

namespace {

std::string error_of(std::string_view text) {
  try {
    YamlDocument doc = load_one_document(text, "t.yaml", "policy file");
    return "<loaded>";
  } catch (const LoadError& e) {
    return e.what();
  } catch (const YAML::Exception& e) {
    return "syntax: " + located("t.yaml", e.mark, e.msg);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(nodes_keep_their_kind_text_and_mark) {
  YamlDocument doc = load_one_document("a: ~\nb: 'null'\nc:\nd:\n  - x\n  - {y: 1, z: [2, 3]}\ne: null\n", "t.yaml",
                                       "policy file");
  YamlNode root = doc.root();
  BOOST_TEST(root.IsMap());
  BOOST_TEST(root.size() == 5u);
  std::vector<std::string> keys;
  for (size_t i = 0; i < root.size(); ++i) keys.push_back(root.key(i).Scalar());
  BOOST_TEST(keys == (std::vector<std::string>{"a", "b", "c", "d", "e"}), boost::test_tools::per_element());
  BOOST_TEST(root.value(0).IsNull());    // plain ~
  BOOST_TEST(root.value(1).IsScalar());  // quoted: text, not null
  BOOST_TEST(root.value(1).Scalar() == "null");
  BOOST_TEST(root.value(2).IsNull());  // empty value
  BOOST_TEST(root.value(4).IsNull());  // plain null
  YamlNode d = root.value(3);
  BOOST_TEST(d.IsSequence());
  BOOST_TEST(d.size() == 2u);
  BOOST_TEST(d.Mark().line == 4);  // 0-based: the line of "  - x"
  BOOST_TEST(d.Mark().column == 2);
  std::vector<std::string> kinds;
  for (const auto& item : d) kinds.push_back(item.IsScalar() ? "scalar:" + item.Scalar() : item.IsMap() ? "map" : "?");
  BOOST_TEST(kinds == (std::vector<std::string>{"scalar:x", "map"}), boost::test_tools::per_element());
  YamlNode inner = *++d.begin();
  BOOST_TEST(inner.value(1).size() == 2u);
  BOOST_TEST(inner.value(1).Mark().line == 5);
  BOOST_TEST(inner.value(1).Mark().column == 14);
  // A map or scalar iterates as nothing; an absent node is null, size 0, mark -1.
  int n = 0;
  for (const auto& x : root) n += x.IsNull() ? 1 : 2;
  for (const auto& x : root.key(0)) n += x.IsNull() ? 1 : 2;
  BOOST_TEST(n == 0);
  YamlNode absent;
  BOOST_TEST(absent.IsNull());
  BOOST_TEST(absent.size() == 0u);
  BOOST_TEST(absent.Scalar().empty());
  BOOST_TEST(absent.Mark().line == -1);
}

BOOST_AUTO_TEST_CASE(empty_text_and_empty_document_are_null) {
  BOOST_TEST(load_one_document("", "t.yaml", "policy file").root().IsNull());
  BOOST_TEST(load_one_document("---\n", "t.yaml", "policy file").root().IsNull());
  BOOST_TEST(load_one_document("# only a comment\n", "t.yaml", "policy file").root().IsNull());
}

BOOST_AUTO_TEST_CASE(the_rules_hold_while_the_tree_is_built) {
  BOOST_TEST(error_of("a: &x 1\n") == "t.yaml:1:4: anchors (&name) are not allowed");
  BOOST_TEST(error_of("a: 1\nb: *x\n") == "syntax: t.yaml:2:4: the referenced anchor is not defined");
  BOOST_TEST(error_of(std::string(65, '[') + std::string(65, ']')) ==
             "t.yaml:1:65: nested deeper than 64 levels");
  BOOST_TEST(error_of(std::string(64, '[') + std::string(64, ']')) == "<loaded>");
  BOOST_TEST(error_of("a: 1\n---\nb: 2\n") == "t.yaml:3:1: a policy file holds one YAML document");
  BOOST_TEST(error_of("a: [1, 2\n").rfind("syntax: t.yaml:", 0) == 0);
}
