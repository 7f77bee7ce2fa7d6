#include "ctl/group_list.hpp"

namespace sgfw::ctl {

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

core::Expected<std::vector<std::string>> parse_group_list(std::string_view text) {
  std::vector<std::string> out;
  if (trim(text) == "-") return out;
  if (trim(text).empty())
    return core::make_error("empty group list: give GROUP[,GROUP...], or '-' to remove every group "
                            "(the VM then gets default-allow-egress)");
  size_t start = 0, index = 1;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view name = trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (name.empty())
      return core::make_error("empty group name (item " + std::to_string(index) + ") in '" + std::string(text) +
                              "': separate names with single commas, e.g. web-tier-sg,default-allow-ssh, "
                              "or give '-' for none");
    out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
    ++index;
  }
  return out;
}

}  // namespace sgfw::ctl
