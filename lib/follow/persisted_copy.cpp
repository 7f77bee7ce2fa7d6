#include "follow/persisted_copy.hpp"

#include <charconv>

#include "policy/policy_writer.hpp"

namespace sgfw::follow {

namespace {

constexpr std::string_view kLead = "# sgfw etcd copy: prefix ";

// The next space-separated word of `s`, removed from it.
std::string_view word(std::string_view& s) {
  size_t sp = s.find(' ');
  std::string_view w = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  return w;
}

}  // namespace

std::string copy_header_text(const CopyHeader& h) {
  return "sgfw etcd copy: prefix " + h.prefix + " revision " + std::to_string(h.revision) + " appliance " + h.appliance;
}

core::Expected<CopyHeader> parse_copy_header(std::string_view text) {
  auto bad = [] {
    return core::make_error(
        "not a persisted etcd copy (its first line is not '# sgfw etcd copy: prefix P revision R appliance A')");
  };
  std::string_view line = text.substr(0, text.find('\n'));
  if (line.substr(0, kLead.size()) != kLead) return bad();
  line.remove_prefix(kLead.size());
  CopyHeader h;
  h.prefix = std::string(word(line));
  if (h.prefix.empty() || word(line) != "revision") return bad();
  std::string_view rev = word(line);
  auto [end, ec] = std::from_chars(rev.data(), rev.data() + rev.size(), h.revision);
  if (rev.empty() || ec != std::errc() || end != rev.data() + rev.size() || h.revision < 0) return bad();
  if (word(line) != "appliance") return bad();
  h.appliance = std::string(word(line));
  if (!policy::is_valid_name(h.appliance) || !line.empty()) return bad();
  return h;
}

std::string copy_text(const policy::Policy& policy, const CopyHeader& h) {
  return policy::write_policy_yaml(policy, copy_header_text(h));
}

}  // namespace sgfw::follow
