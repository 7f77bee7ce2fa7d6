#include "control/metrics_text.hpp"

#include <cstdio>
#include <tuple>

namespace sgfw::control {

namespace {

using Json = nlohmann::json;

// Label values: backslash, double quote and newline escaped (format 0.0.4).
std::string escape(const std::string& v) {
  std::string o;
  for (char c : v) {
    if (c == '\\') o += "\\\\";
    else if (c == '"') o += "\\\"";
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}

std::string number(const Json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v.get<double>());
    return buf;
  }
  return "0";
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::string& labels, const Json& v) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + number(v) + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(const char* k, const std::string& v) { return std::string(k) + "=\"" + escape(v) + "\""; }

}  // namespace

std::string render_metrics(const Json& stats, const Json& status, const PolicyLoadInfo& load, uint64_t expired) {
  Writer w;
  const Json& ports = stats.at("ports");
  w.family("sgfw_port_rx_packets_total", "counter", "Packets received on the port.");
  for (const auto& p : ports) w.sample("sgfw_port_rx_packets_total", label("port", p.at("name")), p.at("rx"));
  w.family("sgfw_port_tx_packets_total", "counter", "Packets sent on the port.");
  for (const auto& p : ports) w.sample("sgfw_port_tx_packets_total", label("port", p.at("name")), p.at("tx"));
  w.family("sgfw_port_drops_total", "counter", "Packets received on the port and dropped, by reason.");
  for (const auto& p : ports)
    for (const auto& [reason, n] : p.at("drops").items())
      w.sample("sgfw_port_drops_total", label("port", p.at("name")) + "," + label("reason", reason), n);
  const Json& vms = stats.at("vms");
  w.family("sgfw_vm_allowed_packets_total", "counter", "Packets to or from the local VM that were allowed.");
  for (const auto& v : vms) w.sample("sgfw_vm_allowed_packets_total", label("vm", v.at("name")), v.at("allowed"));
  w.family("sgfw_vm_drops_total", "counter", "Packets to or from the local VM that were dropped, by reason.");
  for (const auto& v : vms)
    for (const auto& [reason, n] : v.at("drops").items())
      w.sample("sgfw_vm_drops_total", label("vm", v.at("name")) + "," + label("reason", reason), n);
  w.family("sgfw_rule_hits_total", "counter", "Connections admitted by the rule (group/rule).");
  for (const auto& r : stats.at("rules")) w.sample("sgfw_rule_hits_total", label("rule", r.at("rule")), r.at("hits"));
  if (stats.contains("logs")) {  // docs/logs.md, "Counters"
    w.family("sgfw_log_lines_total", "counter", "Log records by file and outcome (written, suppressed, lost, errors).");
    for (const auto& [file, c] : stats.at("logs").items())
      for (const char* outcome : {"written", "suppressed", "lost", "errors"})
        w.sample("sgfw_log_lines_total", label("file", file) + "," + label("outcome", outcome), c.at(outcome));
  }
  const Json& flows = status.at("flows");
  w.family("sgfw_connections", "gauge", "Connections in the connection table, by address family.");
  w.sample("sgfw_connections", label("family", "ipv4"), flows.at("used_ipv4"));
  w.sample("sgfw_connections", label("family", "ipv6"), flows.at("used_ipv6"));
  w.family("sgfw_connections_capacity", "gauge", "Capacity of each family's connection table.");
  w.sample("sgfw_connections_capacity", label("family", "ipv4"), flows.at("capacity"));
  w.sample("sgfw_connections_capacity", label("family", "ipv6"), flows.at("capacity"));
  w.family("sgfw_connection_evictions_total", "counter",
           "Half-open connections reclaimed to make room, by reason (capacity: table full; "
           "inbound-half-open: the VM's inbound half-open budget).");
  w.sample("sgfw_connection_evictions_total", label("reason", "capacity"), flows.value("half_open_reclaimed", Json(0)));
  w.sample("sgfw_connection_evictions_total", label("reason", "inbound-half-open"),
           flows.value("inbound_half_open_recycled", Json(0)));
  w.family("sgfw_connections_expired_total", "counter", "Connections removed after their idle timeout.");
  w.sample("sgfw_connections_expired_total", "", Json(expired));
  w.family("sgfw_policy_generation", "gauge", "Generation of the running policy.");
  w.sample("sgfw_policy_generation", "", status.at("generation"));
  w.family("sgfw_policy_load_duration_seconds", "gauge", "Duration of the last accepted policy load (the start-up load until the first change).");
  w.sample("sgfw_policy_load_duration_seconds", "", load.seconds);
  w.family("sgfw_policy_load_timestamp_seconds", "gauge", "Unix time the running policy was loaded.");
  w.sample("sgfw_policy_load_timestamp_seconds", "", load.unix_time);
  const Json& workers = status.at("workers");
  w.family("sgfw_worker_busy_cycles_total", "counter", "TSC cycles the worker spent on bursts that carried packets.");
  for (const auto& k : workers) w.sample("sgfw_worker_busy_cycles_total", label("worker", std::to_string(k.at("worker").get<uint64_t>())), k.at("busy_cycles"));
  w.family("sgfw_worker_packets_total", "counter", "Packets the worker received.");
  for (const auto& k : workers) w.sample("sgfw_worker_packets_total", label("worker", std::to_string(k.at("worker").get<uint64_t>())), k.at("packets"));
  w.family("sgfw_worker_loops_total", "counter", "Iterations of the worker's polling loop (the watchdog's progress).");
  for (const auto& k : workers)
    w.sample("sgfw_worker_loops_total", label("worker", std::to_string(k.at("worker").get<uint64_t>())),
             k.value("loops", Json(0)));
  // The classification cache (docs/design/packet-path.md): answered, missed, bypassed.
  for (const auto& [field, name, help] :
       {std::tuple{"classify_cache_hits", "sgfw_worker_classify_cache_hits_total",
                   "Rule checks the worker's classification cache answered (rte_acl not consulted)."},
        std::tuple{"classify_cache_misses", "sgfw_worker_classify_cache_misses_total",
                   "Rule checks looked up in the classification cache and not found."},
        std::tuple{"classify_cache_bypassed", "sgfw_worker_classify_cache_bypassed_total",
                   "Rule checks sent past the classification cache by its adaptive bypass."}}) {
    w.family(name, "counter", help);
    for (const auto& k : workers)
      w.sample(name, label("worker", std::to_string(k.at("worker").get<uint64_t>())), k.value(field, Json(0)));
  }
  return w.take();
}

}  // namespace sgfw::control
