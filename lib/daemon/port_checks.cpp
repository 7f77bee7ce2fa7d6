#include "daemon/port_checks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <thread>

#include "config/device_args.hpp"

namespace sgfw::daemon {

using config::device_driver;
using config::device_ifaces;
using config::device_tx_queues;
using config::is_vdev;

namespace {

struct Link {
  int index = 0;
  int link = 0;  // IFLA_LINK: a veth's peer index (in the peer's namespace)
  std::string name;
};

// RTM_GETLINK for one index in the calling thread's network namespace.
std::optional<Link> get_link(int ifindex) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return std::nullopt;
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = ifindex;
  static thread_local char buf[65536];
  ssize_t n = -1;
  if (::send(fd, &req, sizeof(req), 0) == static_cast<ssize_t>(sizeof(req))) n = ::recv(fd, buf, sizeof(buf), 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  if (!NLMSG_OK(h, static_cast<unsigned>(n)) || h->nlmsg_type != RTM_NEWLINK) return std::nullopt;
  auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
  Link l;
  l.index = ifi->ifi_index;
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(*ifi)));
  for (rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_IFNAME) l.name = static_cast<const char*>(RTA_DATA(a));
    else if (a->rta_type == IFLA_LINK) std::memcpy(&l.link, RTA_DATA(a), sizeof(int));
  }
  return l;
}

// ethtool on `name` in the calling thread's network namespace.
bool ethtool(const std::string& name, void* data) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  bool ok = ::ioctl(fd, SIOCETHTOOL, &ifr) == 0;
  ::close(fd);
  return ok;
}

std::optional<bool> tx_checksum_on(const std::string& name) {
  ethtool_value ev{};
  ev.cmd = ETHTOOL_GTXCSUM;
  if (!ethtool(name, &ev)) return std::nullopt;
  return ev.data != 0;
}

bool is_veth(const std::string& name) {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  return ethtool(name, &info) && std::strcmp(info.driver, "veth") == 0;
}

struct Peer {
  std::string netns;  // empty: this namespace
  std::string name;
  std::optional<bool> tx_csum;
};

// The peer of veth `self` (index, IFLA_LINK): here, or in a namespace under /run/netns
// (probed from a helper thread: setns moves only the calling thread).
std::optional<Peer> find_peer(const Link& self) {
  if (auto l = get_link(self.link); l && l->link == self.index && l->index != self.index)
    return Peer{"", l->name, tx_checksum_on(l->name)};
  DIR* d = ::opendir("/run/netns");
  if (!d) return std::nullopt;
  std::optional<Peer> found;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string ns = e->d_name;
    std::thread t([&] {
      int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      if (::setns(fd, CLONE_NEWNET) == 0) {
        if (auto l = get_link(self.link); l && l->link == self.index) found = Peer{ns, l->name, tx_checksum_on(l->name)};
      }
      ::close(fd);
    });
    t.join();
    if (found) break;
  }
  ::closedir(d);
  return found;
}

}  // namespace

core::Status check_ports(const config::DaemonConfig& cfg) {
  for (const auto& p : cfg.ports) {
    for (const auto& iface : device_ifaces(p.device)) {
      if (::if_nametoindex(iface.c_str()) == 0)
        return core::make_error(cfg.file + ": port '" + p.name + "': interface '" + iface + "' (device '" + p.device +
                                "') does not exist in this network namespace: create it (e.g. ip link add " + iface +
                                " type veth peer name " + iface + "-peer) or fix iface= in the device; "
                                "'ip -br link' lists the interfaces");
    }
    if (auto q = device_tx_queues(p.device); q && *q < cfg.workers) {
      std::string driver = device_driver(p.device);
      std::string key = driver == "net_af_xdp" ? "queue_count" : driver == "net_af_packet" ? "qpairs" : "";
      return core::make_error(cfg.file + ": port '" + p.name + "': device '" + p.device + "' offers " +
                              std::to_string(*q) + " tx queue" + (*q == 1 ? "" : "s") + " but workers is " +
                              std::to_string(cfg.workers) + " (each worker needs its own tx queue on every port): " +
                              (key.empty() ? std::string("use a device with more queues")
                                           : "add " + key + "=" + std::to_string(cfg.workers) + " to the device") +
                              ", or lower workers");
    }
  }
  return {};
}

std::vector<std::string> checksum_warnings(const config::DaemonConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& p : cfg.ports) {
    for (const auto& iface : device_ifaces(p.device)) {
      unsigned index = ::if_nametoindex(iface.c_str());
      if (index == 0 || !is_veth(iface)) continue;
      auto self = get_link(static_cast<int>(index));
      if (!self || self->link == 0) continue;
      auto peer = find_peer(*self);
      const std::string head = "port '" + p.name + "': ";
      if (!peer) {
        out.push_back(head + "cannot see the veth peer of '" + iface +
                      "' (its network namespace is not under /run/netns): make sure TX checksum offload is off "
                      "there (ethtool -K PEER tx off), or TCP and UDP through this port fail (docs/daemon.md, "
                      "\"Checksum offload\")");
        continue;
      }
      if (!peer->tx_csum.value_or(false)) continue;
      std::string where = peer->netns.empty() ? "" : " in network namespace '" + peer->netns + "'";
      std::string fix = (peer->netns.empty() ? "" : "ip netns exec " + peer->netns + " ") + "ethtool -K " +
                        peer->name + " tx off";
      out.push_back(head + "TX checksum offload is on for '" + peer->name + "'" + where + ", the veth peer of '" +
                    iface + "': its kernel sends TCP and UDP packets with unfinished checksums, which sgfwd "
                    "forwards as they are and the receiver drops (ping works, TCP and UDP do not). Turn it off: " +
                    fix + " (docs/daemon.md, \"Checksum offload\")");
    }
  }
  return out;
}

}  // namespace sgfw::daemon
