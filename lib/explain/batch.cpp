#include "explain/batch.hpp"

#include <istream>
#include <nlohmann/json.hpp>

namespace sgfw::explain {

std::vector<BatchLine> read_batch(std::istream& in) {
  std::vector<BatchLine> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!is_blank_or_comment(line)) out.push_back({n, line});
  }
  return out;
}

std::string batch_error_json(const BatchLine& line, const std::string& message) {
  nlohmann::ordered_json j;
  j["error"] = "line " + std::to_string(line.number) + ": " + message + " (input: '" + line.text + "')";
  j["line"] = line.number;
  j["input"] = line.text;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

NameResolver vm_name_resolver(const policy::Policy& policy) {
  return [&policy](std::string_view name) -> std::optional<std::vector<core::IpAddress>> {
    const policy::Vm* vm = policy.find_vm(name);
    if (vm == nullptr) return std::nullopt;
    return vm->ips;
  };
}

}  // namespace sgfw::explain
