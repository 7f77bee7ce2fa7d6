#include "entries.hpp"

namespace sgfw::fuzz {

Entry entry_by_name(std::string_view name, bool* needs_eal) {
  *needs_eal = false;
  if (name == "policy_loader") return policy_loader;
  if (name == "daemon_config") return daemon_config;
  if (name == "policy_writer") return policy_writer;
  if (name == "packet_parser") return packet_parser;
  if (name == "journal") return journal;
  if (name == "etcd_value") return etcd_value;
  if (name == "yaml_sources") return yaml_sources;
  if (name == "follow_batch") return follow_batch;
  if (name == "persisted_copy") return persisted_copy;
  if (name == "control_request") {
    *needs_eal = true;
    return control_request;
  }
  return nullptr;
}

}  // namespace sgfw::fuzz
