#include "config/daemon_config.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/yaml_reader.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

std::vector<std::string> DaemonConfig::port_names() const {
  std::vector<std::string> names;
  for (const auto& p : ports) names.push_back(p.name);
  return names;
}

uint32_t DaemonConfig::uplink_index() const {
  for (uint32_t i = 0; i < ports.size(); ++i)
    if (ports[i].uplink) return i;
  return 0;
}

policy::PortNames DaemonConfig::policy_ports() const {
  policy::PortNames names;
  for (const auto& p : ports) {
    if (p.uplink) names.uplink = p.name;
    else names.vm_ports.push_back(p.name);
  }
  names.config_file = file;
  return names;
}

namespace {

uint32_t u32(std::string_view file, const YamlNode& n, std::string_view what, long long lo, long long hi) {
  long long v = integer(file, n, what);
  if (v < lo || v > hi)
    fail(file, n.Mark(), std::string(what) + " " + n.Scalar() + " out of range " + std::to_string(lo) +
                             ".." + std::to_string(hi));
  return static_cast<uint32_t>(v);
}

// logs: {connections, drops, rate_limit_per_s}; relative paths are relative to the
// config file, like `policy`. At least one file.
void parse_logs(const std::string& file, const YamlNode& n, DaemonConfig& c) {
  MapReader m(file, n, "logs", {"connections", "drops", "rate_limit_per_s"});
  auto path = [&](const char* k) -> std::string {
    if (!m.has(k)) return "";
    YamlNode v = m.get(k);
    std::string s = scalar(file, v, std::string("logs.") + k);
    if (s.empty()) fail(file, v.Mark(), std::string("logs.") + k + " is empty (leave the key out for no file)");
    if (s.back() == '/') fail(file, v.Mark(), std::string("logs.") + k + " '" + s + "' names a directory, not a file");
    std::filesystem::path p(s);
    if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
    return p.lexically_normal().string();
  };
  c.logs.connections = path("connections");
  c.logs.drops = path("drops");
  if (!c.logs.enabled()) fail(file, n.Mark(), "logs: give connections, drops or both (leave logs out for none)");
  if (!c.logs.connections.empty() && c.logs.connections == c.logs.drops)
    fail(file, m.key_mark("drops"), "logs.drops is the same file as logs.connections");
  if (m.has("rate_limit_per_s"))
    c.logs.rate_limit_per_s = u32(file, m.get("rate_limit_per_s"), "rate_limit_per_s", 1, 10000000);
}

DaemonConfig parse(const YamlNode& root, const std::string& file) {
  DaemonConfig c;
  c.file = file;
  MapReader top(file, root, "daemon config",
                {"eal", "ports", "workers", "policy", "control_socket", "control_group", "flows",
                 "acl_max_size", "mbufs", "limits", "metrics", "logs", "policy_source"});
  if (top.has("eal")) {
    YamlNode e = top.get("eal");
    expect_sequence(file, e, "eal");
    for (const auto& a : e) c.eal.push_back(scalar(file, a, "EAL argument"));
  }
  YamlNode ports = top.require("ports");
  expect_sequence(file, ports, "ports");
  std::set<std::string> names;
  int uplinks = 0;
  for (const auto& pn : ports) {
    MapReader m(file, pn, "port", {"name", "device", "uplink"});
    PortConfig p;
    YamlNode n = m.require("name");
    p.name = scalar(file, n, "port name");
    if (!policy::is_valid_name(p.name)) fail(file, n.Mark(), "invalid port name '" + p.name + "'");
    if (!names.insert(p.name).second) fail(file, n.Mark(), "duplicate port name '" + p.name + "'");
    YamlNode d = m.require("device");
    p.device = scalar(file, d, "device");
    if (p.device.empty()) fail(file, d.Mark(), "empty device");
    if (m.has("uplink")) p.uplink = boolean(file, m.get("uplink"), "uplink");
    if (p.uplink && ++uplinks > 1) fail(file, m.key_mark("uplink"), "more than one uplink port");
    c.ports.push_back(std::move(p));
  }
  if (c.ports.size() > kMaxPorts)
    fail(file, ports.Mark(), "too many ports (" + std::to_string(c.ports.size()) + "): at most " +
                                 std::to_string(kMaxPorts) + "; let VMs share ports");
  if (uplinks != 1) fail(file, ports.Mark(), "exactly one port must have 'uplink: true'");
  if (top.has("workers")) c.workers = u32(file, top.get("workers"), "workers", 1, kMaxWorkers);
  YamlNode pol = top.require("policy");
  c.policy = scalar(file, pol, "policy");
  std::filesystem::path pp(c.policy);
  if (pp.is_relative()) c.policy = (std::filesystem::path(file).parent_path() / pp).lexically_normal().string();
  if (top.has("control_socket")) c.control_socket = scalar(file, top.get("control_socket"), "control_socket");
  if (top.has("control_group")) {
    c.control_group = scalar(file, top.get("control_group"), "control_group");
    c.control_group_set = true;
  }
  if (top.has("acl_max_size")) c.acl_max_size = u32(file, top.get("acl_max_size"), "acl_max_size", 0, 4000000000LL);
  if (top.has("mbufs")) c.mbufs = u32(file, top.get("mbufs"), "mbufs", 1024, 1LL << 26);
  if (top.has("flows")) {
    MapReader f(file, top.get("flows"), "flows",
                {"capacity", "per_vm_limit", "per_vm_inbound_half_open", "keep_established", "tcp_loose",
                 "timeouts"});
    if (f.has("capacity")) c.flows.capacity = u32(file, f.get("capacity"), "capacity", 1, 1LL << 28);
    if (f.has("per_vm_limit")) c.flows.per_vm_limit = u32(file, f.get("per_vm_limit"), "per_vm_limit", 1, 1LL << 28);
    if (f.has("per_vm_inbound_half_open"))
      c.flows.per_vm_inbound_half_open =
          u32(file, f.get("per_vm_inbound_half_open"), "per_vm_inbound_half_open", 1, 1LL << 28);
    if (f.has("keep_established")) c.flows.keep_established = boolean(file, f.get("keep_established"), "keep_established");
    if (f.has("tcp_loose")) c.flows.tcp_loose = boolean(file, f.get("tcp_loose"), "tcp_loose");
    if (f.has("timeouts")) {
      MapReader t(file, f.get("timeouts"), "timeouts",
                  {"tcp_syn", "tcp_established", "tcp_closing", "udp", "udp_stream", "icmp", "other"});
      auto& to = c.flows.timeouts;
      const std::pair<const char*, uint32_t*> fields[] = {
          {"tcp_syn", &to.tcp_syn}, {"tcp_established", &to.tcp_established}, {"tcp_closing", &to.tcp_closing},
          {"udp", &to.udp}, {"udp_stream", &to.udp_stream}, {"icmp", &to.icmp}, {"other", &to.other}};
      for (auto [key, dst] : fields)
        if (t.has(key)) *dst = u32(file, t.get(key), key, 1, 100000000);
    }
  }
  if (c.flows.per_vm_inbound_half_open > c.flows.per_vm_limit)
    fail(file, top.key_mark("flows"), "flows.per_vm_inbound_half_open " + std::to_string(c.flows.per_vm_inbound_half_open) +
                                          " is above flows.per_vm_limit " + std::to_string(c.flows.per_vm_limit));
  if (top.has("limits")) {
    MapReader l(file, top.get("limits"), "limits", {"local_vms", "vms", "groups"});
    if (l.has("local_vms")) c.limits.local_vms = u32(file, l.get("local_vms"), "local_vms", 1, 1LL << 20);
    if (l.has("vms")) c.limits.vms = u32(file, l.get("vms"), "vms", 1, 1LL << 24);
    if (l.has("groups")) c.limits.groups = u32(file, l.get("groups"), "groups", 3, 1LL << 24);
    if (c.limits.local_vms > c.limits.vms)
      fail(file, l.key_mark("local_vms"), "limits.local_vms is above limits.vms");
  }
  if (top.has("metrics")) {
    MapReader m(file, top.get("metrics"), "metrics", {"listen"});
    YamlNode l = m.require("listen");
    std::string v = scalar(file, l, "metrics.listen");
    // host:port; an IPv6 host in brackets ([::1]:9469).
    size_t colon = v.rfind(':');
    std::string host = colon == std::string::npos ? "" : v.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : v.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    long pn = digits ? std::stol(port) : 0;
    if (host.empty() || pn < 1 || pn > 65535)
      fail(file, l.Mark(), "metrics.listen '" + v + "' is not host:port (e.g. 127.0.0.1:9469, port 1..65535)");
    c.metrics_host = host;
    c.metrics_port = static_cast<uint16_t>(pn);
  }
  if (top.has("logs")) parse_logs(file, top.get("logs"), c);
  if (top.has("policy_source")) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
    c.policy_source = parse_policy_source(file, top.get("policy_source"), host);
  }
  return c;
}

}  // namespace

core::Expected<DaemonConfig> load_daemon_config_text(std::string_view text, const std::string& display_name) {
  try {
    YamlDocument doc = load_one_document(text, display_name, "daemon configuration");
    return parse(doc.root(), display_name);
  } catch (const LoadError& e) {
    return core::make_error(e.what());
  } catch (const YAML::Exception& e) {
    return core::make_error(located(display_name, e.mark, e.msg));
  } catch (const std::exception& e) {
    return core::make_error(display_name + ":1:1: " + e.what());
  }
}

core::Expected<DaemonConfig> load_daemon_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(path + ":1:1: cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_daemon_config_text(ss.str(), path);
}

}  // namespace sgfw::config
