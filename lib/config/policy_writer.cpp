#include "config/policy_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

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

}  // namespace

std::string write_policy_yaml(const policy::Policy& p) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "subnets" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : p.subnets)
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << s.name << YAML::Key << "cidr"
      << YAML::Value << core::to_string(s.cidr) << YAML::EndMap;
  e << YAML::EndSeq;
  e << YAML::Key << "securityGroups" << YAML::Value << YAML::BeginSeq;
  for (const auto& g : p.groups) {
    if (g.builtin) continue;
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << g.name;
    if (!g.description.empty()) e << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << g.description;
    e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (const auto& r : g.rules) {
      e << YAML::BeginMap;
      e << YAML::Key << "name" << YAML::Value << r.name;
      if (!r.description.empty()) e << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << r.description;
      e << YAML::Key << "direction" << YAML::Value
        << (r.direction == policy::Direction::kIngress ? "Ingress" : "Egress");
      e << YAML::Key << "protocol" << YAML::Value << protocol_keyword(r.protocol);
      if (r.ports) {
        if (r.ports->lo == r.ports->hi) e << YAML::Key << "port" << YAML::Value << r.ports->lo;
        else e << YAML::Key << "portRange" << YAML::Value
               << (std::to_string(r.ports->lo) + "-" + std::to_string(r.ports->hi));
      }
      e << YAML::Key << "remote" << YAML::Value << YAML::Flow << YAML::BeginMap;
      switch (r.remote.kind) {
        case policy::Remote::Kind::kAddress:
          e << YAML::Key << "address" << YAML::Value << YAML::BeginMap << YAML::Key << "IPAddressOrCIDR"
            << YAML::Value << core::to_string(r.remote.cidr) << YAML::EndMap;
          break;
        case policy::Remote::Kind::kSubnet:
          e << YAML::Key << "subnetRef" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
            << r.remote.name << YAML::EndMap;
          break;
        case policy::Remote::Kind::kGroup:
          e << YAML::Key << "securityGroupRef" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
            << YAML::Value << r.remote.name << YAML::EndMap;
          break;
      }
      e << YAML::EndMap << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "vms" << YAML::Value << YAML::BeginSeq;
  for (const auto& vm : p.vms) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << vm.name;
    if (vm.port) e << YAML::Key << "port" << YAML::Value << *vm.port;
    if (vm.mac) e << YAML::Key << "mac" << YAML::Value << YAML::DoubleQuoted << core::to_string(*vm.mac);
    e << YAML::Key << "ips" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (auto ip : vm.ips) e << core::to_string(ip);
    e << YAML::EndSeq;
    e << YAML::Key << "securityGroups" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& g : vm.groups) e << g;
    e << YAML::EndSeq << YAML::EndMap;
  }
  e << YAML::EndSeq << YAML::EndMap;
  return std::string("# written by sgfwd (vm set-groups)\n") + e.c_str() + "\n";
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
