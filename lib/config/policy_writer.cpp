#include "config/policy_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sgfw::config {

namespace {

std::string protocol_keyword(policy::Protocol p) {
  switch (p) {
    case policy::Protocol::kTcp: return "TCP";
    case policy::Protocol::kUdp: return "UDP";
    case policy::Protocol::kIcmp: return "ICMP";
    case policy::Protocol::kAll: return "All";
  }
  return "All";
}

// A double-quoted YAML scalar (descriptions are free text).
void quoted(std::string& out, const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

}  // namespace

// Written by hand rather than with YAML::Emitter: a 10,000-VM policy is ~10 MiB and
// set-groups persists it on every change (the emitter took ~1 s; this takes ~20 ms).
// Names are [a-z0-9-] by validation and need no quoting; free text is double-quoted.
std::string write_policy_yaml(const policy::Policy& p) {
  std::string o;
  o.reserve(256 * 1024);
  o += "# written by sgfwd (vm set-groups)\nsubnets:\n";
  for (const auto& s : p.subnets) o += "  - {name: " + s.name + ", cidr: " + core::to_string(s.cidr) + "}\n";
  o += "securityGroups:\n";
  for (const auto& g : p.groups) {
    if (g.builtin) continue;
    o += "  - name: " + g.name + "\n";
    if (!g.description.empty()) {
      o += "    description: ";
      quoted(o, g.description);
      o += '\n';
    }
    o += "    rules:\n";
    for (const auto& r : g.rules) {
      o += "      - {name: " + r.name;
      if (!r.description.empty()) {
        o += ", description: ";
        quoted(o, r.description);
      }
      o += r.direction == policy::Direction::kIngress ? ", direction: Ingress" : ", direction: Egress";
      o += ", protocol: " + protocol_keyword(r.protocol);
      if (r.ports) {
        if (r.ports->lo == r.ports->hi) o += ", port: " + std::to_string(r.ports->lo);
        else o += ", portRange: " + std::to_string(r.ports->lo) + "-" + std::to_string(r.ports->hi);
      }
      switch (r.remote.kind) {
        case policy::Remote::Kind::kAddress:
          o += ", remote: {address: {IPAddressOrCIDR: " + core::to_string(r.remote.cidr) + "}}}\n";
          break;
        case policy::Remote::Kind::kSubnet:
          o += ", remote: {subnetRef: {name: " + r.remote.name + "}}}\n";
          break;
        case policy::Remote::Kind::kGroup:
          o += ", remote: {securityGroupRef: {name: " + r.remote.name + "}}}\n";
          break;
      }
    }
  }
  o += "vms:\n";
  for (const auto& vm : p.vms) {
    o += "  - {name: " + vm.name;
    if (vm.port) o += ", port: " + *vm.port;
    if (vm.mac) o += ", mac: \"" + core::to_string(*vm.mac) + "\"";
    o += ", ips: [";
    for (size_t i = 0; i < vm.ips.size(); ++i) o += (i ? ", " : "") + core::to_string(vm.ips[i]);
    o += "], securityGroups: [";
    for (size_t i = 0; i < vm.groups.size(); ++i) o += (i ? ", " : "") + vm.groups[i];
    o += "]}\n";
  }
  return o;
}

core::Status write_file_atomically(const std::string& path, const std::string& content) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(tmp.data());
  if (fd < 0) return core::make_error("cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::make_error("cannot write " + tmp + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  fchmod(fd, 0640);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return core::make_error("cannot flush " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return core::make_error("cannot replace " + path + ": " + std::strerror(err));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace sgfw::config
