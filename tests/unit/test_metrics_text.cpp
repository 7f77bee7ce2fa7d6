// GET /metrics text (docs/metrics.md): the exact exposition of a small data plane's
// `stats` and `status` replies.
#define BOOST_TEST_MODULE metrics_text
#include <boost/test/unit_test.hpp>

#include "control/metrics_text.hpp"

using nlohmann::json;

BOOST_AUTO_TEST_CASE(renders_every_family_exactly) {
  json stats = json::parse(R"({"generation": 3,
    "ports": [{"name": "p1", "rx": 10, "tx": 7, "dropped": 3, "drops": {"no-rule": 2, "spoofed": 1}}],
    "vms": [{"name": "a\"b", "allowed": 7, "dropped": 2, "drops": {"no-rule": 2}}],
    "rules": [{"rule": "web/https", "hits": 4}]})");
  json status = json::parse(R"({"generation": 3,
    "flows": {"capacity": 1024, "used": 5, "used_ipv4": 4, "used_ipv6": 1, "half_open_reclaimed": 6,
              "inbound_half_open_recycled": 2},
    "workers": [{"worker": 0, "packets": 10, "busy_cycles": 12345, "busy_percent": 0.1, "loops": 9,
                 "classify_cache_hits": 6, "classify_cache_misses": 3, "classify_cache_bypassed": 1}]})");
  sgfw::control::PolicyLoadInfo load{0.25, 1700000000.5};
  const std::string want =
      "# HELP sgfw_port_rx_packets_total Packets received on the port.\n"
      "# TYPE sgfw_port_rx_packets_total counter\n"
      "sgfw_port_rx_packets_total{port=\"p1\"} 10\n"
      "# HELP sgfw_port_tx_packets_total Packets sent on the port.\n"
      "# TYPE sgfw_port_tx_packets_total counter\n"
      "sgfw_port_tx_packets_total{port=\"p1\"} 7\n"
      "# HELP sgfw_port_drops_total Packets received on the port and dropped, by reason.\n"
      "# TYPE sgfw_port_drops_total counter\n"
      "sgfw_port_drops_total{port=\"p1\",reason=\"no-rule\"} 2\n"
      "sgfw_port_drops_total{port=\"p1\",reason=\"spoofed\"} 1\n"
      "# HELP sgfw_vm_allowed_packets_total Packets to or from the local VM that were allowed.\n"
      "# TYPE sgfw_vm_allowed_packets_total counter\n"
      "sgfw_vm_allowed_packets_total{vm=\"a\\\"b\"} 7\n"
      "# HELP sgfw_vm_drops_total Packets to or from the local VM that were dropped, by reason.\n"
      "# TYPE sgfw_vm_drops_total counter\n"
      "sgfw_vm_drops_total{vm=\"a\\\"b\",reason=\"no-rule\"} 2\n"
      "# HELP sgfw_rule_hits_total Connections admitted by the rule (group/rule).\n"
      "# TYPE sgfw_rule_hits_total counter\n"
      "sgfw_rule_hits_total{rule=\"web/https\"} 4\n"
      "# HELP sgfw_connections Connections in the connection table, by address family.\n"
      "# TYPE sgfw_connections gauge\n"
      "sgfw_connections{family=\"ipv4\"} 4\n"
      "sgfw_connections{family=\"ipv6\"} 1\n"
      "# HELP sgfw_connections_capacity Capacity of each family's connection table.\n"
      "# TYPE sgfw_connections_capacity gauge\n"
      "sgfw_connections_capacity{family=\"ipv4\"} 1024\n"
      "sgfw_connections_capacity{family=\"ipv6\"} 1024\n"
      "# HELP sgfw_connection_evictions_total Half-open connections reclaimed to make room, by reason (capacity: "
      "table full; inbound-half-open: the VM's inbound half-open budget).\n"
      "# TYPE sgfw_connection_evictions_total counter\n"
      "sgfw_connection_evictions_total{reason=\"capacity\"} 6\n"
      "sgfw_connection_evictions_total{reason=\"inbound-half-open\"} 2\n"
      "# HELP sgfw_connections_expired_total Connections removed after their idle timeout.\n"
      "# TYPE sgfw_connections_expired_total counter\n"
      "sgfw_connections_expired_total 11\n"
      "# HELP sgfw_policy_generation Generation of the running policy.\n"
      "# TYPE sgfw_policy_generation gauge\n"
      "sgfw_policy_generation 3\n"
      "# HELP sgfw_policy_load_duration_seconds Duration of the last accepted policy load (the start-up load until the first change).\n"
      "# TYPE sgfw_policy_load_duration_seconds gauge\n"
      "sgfw_policy_load_duration_seconds 0.25\n"
      "# HELP sgfw_policy_load_timestamp_seconds Unix time the running policy was loaded.\n"
      "# TYPE sgfw_policy_load_timestamp_seconds gauge\n"
      "sgfw_policy_load_timestamp_seconds 1700000000.5\n"
      "# HELP sgfw_worker_busy_cycles_total TSC cycles the worker spent on bursts that carried packets.\n"
      "# TYPE sgfw_worker_busy_cycles_total counter\n"
      "sgfw_worker_busy_cycles_total{worker=\"0\"} 12345\n"
      "# HELP sgfw_worker_packets_total Packets the worker received.\n"
      "# TYPE sgfw_worker_packets_total counter\n"
      "sgfw_worker_packets_total{worker=\"0\"} 10\n"
      "# HELP sgfw_worker_loops_total Iterations of the worker's polling loop (the watchdog's progress).\n"
      "# TYPE sgfw_worker_loops_total counter\n"
      "sgfw_worker_loops_total{worker=\"0\"} 9\n"
      "# HELP sgfw_worker_classify_cache_hits_total Rule checks the worker's classification cache answered (rte_acl not consulted).\n"
      "# TYPE sgfw_worker_classify_cache_hits_total counter\n"
      "sgfw_worker_classify_cache_hits_total{worker=\"0\"} 6\n"
      "# HELP sgfw_worker_classify_cache_misses_total Rule checks looked up in the classification cache and not found.\n"
      "# TYPE sgfw_worker_classify_cache_misses_total counter\n"
      "sgfw_worker_classify_cache_misses_total{worker=\"0\"} 3\n"
      "# HELP sgfw_worker_classify_cache_bypassed_total Rule checks sent past the classification cache by its adaptive bypass.\n"
      "# TYPE sgfw_worker_classify_cache_bypassed_total counter\n"
      "sgfw_worker_classify_cache_bypassed_total{worker=\"0\"} 1\n";
  BOOST_TEST(sgfw::control::render_metrics(stats, status, load, 11) == want);
}

// With logs configured, `stats` has `logs` and the exposition one series per file and
// outcome (docs/logs.md, "Counters"), between the rule hits and the connections.
BOOST_AUTO_TEST_CASE(renders_log_counters) {
  json stats = json::parse(R"({"generation": 1, "ports": [], "vms": [], "rules": [],
    "logs": {"drops": {"path": "/var/log/sgfw/drops.jsonl", "written": 50, "suppressed": 2950, "lost": 1, "errors": 0}}})");
  json status = json::parse(R"({"generation": 1,
    "flows": {"capacity": 8, "used": 0, "used_ipv4": 0, "used_ipv6": 0}, "workers": []})");
  const std::string text = sgfw::control::render_metrics(stats, status, {}, 0);
  const std::string want =
      "# HELP sgfw_log_lines_total Log records by file and outcome (written, suppressed, lost, errors).\n"
      "# TYPE sgfw_log_lines_total counter\n"
      "sgfw_log_lines_total{file=\"drops\",outcome=\"written\"} 50\n"
      "sgfw_log_lines_total{file=\"drops\",outcome=\"suppressed\"} 2950\n"
      "sgfw_log_lines_total{file=\"drops\",outcome=\"lost\"} 1\n"
      "sgfw_log_lines_total{file=\"drops\",outcome=\"errors\"} 0\n"
      "# HELP sgfw_connections ";
  BOOST_TEST(text.find(want) != std::string::npos, text);
  // Without `logs` in stats: no such family.
  stats.erase("logs");
  BOOST_TEST(sgfw::control::render_metrics(stats, status, {}, 0).find("sgfw_log_lines_total") == std::string::npos);
}
