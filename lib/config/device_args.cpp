#include "config/device_args.hpp"

#include <algorithm>
#include <cstdlib>

namespace sgfw::config {

namespace {

// key=value pairs after the first comma.
std::vector<std::pair<std::string, std::string>> pairs(const std::string& devargs) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = devargs.find(',');
  while (pos != std::string::npos) {
    size_t next = devargs.find(',', pos + 1);
    std::string item = devargs.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    size_t eq = item.find('=');
    if (eq != std::string::npos) out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    pos = next;
  }
  return out;
}

std::optional<unsigned> number_of(const std::string& devargs, const std::string& key) {
  for (const auto& [k, v] : pairs(devargs)) {
    if (k != key) continue;
    char* end = nullptr;
    unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') return std::nullopt;
    return static_cast<unsigned>(n);
  }
  return 1u;
}

}  // namespace

std::string device_driver(const std::string& devargs) {
  std::string name = devargs.substr(0, devargs.find(','));
  if (!is_vdev(devargs)) return name;
  while (!name.empty() && name.back() >= '0' && name.back() <= '9') name.pop_back();
  return name;
}

bool is_vdev(const std::string& devargs) { return devargs.rfind("net_", 0) == 0 || devargs.rfind("eth_", 0) == 0; }

std::vector<std::string> device_ifaces(const std::string& devargs) {
  std::vector<std::string> out;
  for (const auto& [k, v] : pairs(devargs))
    if ((k == "iface" || k == "rx_iface" || k == "rx_iface_in" || k == "tx_iface") && !v.empty() &&
        std::find(out.begin(), out.end(), v) == out.end())
      out.push_back(v);
  return out;
}

std::optional<unsigned> device_tx_queues(const std::string& devargs) {
  std::string d = device_driver(devargs);
  if (d == "net_af_packet" || d == "eth_af_packet") return number_of(devargs, "qpairs");
  if (d == "net_af_xdp") return number_of(devargs, "queue_count");
  if (d == "net_pcap" || d == "eth_pcap") return 1u;
  return std::nullopt;
}

}  // namespace sgfw::config
