#include "daemon/etcd_start.hpp"

#include "config/file_access.hpp"
#include "config/policy_loader.hpp"
#include "fleet/decode.hpp"
#include "follow/persisted_copy.hpp"

namespace sgfw::daemon {

namespace {

// A few seconds at most per endpoint: a start must not hang on a dead cluster.
constexpr std::chrono::milliseconds kStartCallTimeout{2000};

core::Expected<EtcdStart> from_copy(const config::DaemonConfig& cfg, EtcdStart s, const std::string& why) {
  const auto& src = cfg.policy_source.source;
  auto unreachable = [&](const std::string& detail) {
    return core::make_error("sgfwd: etcd unreachable at start (" + why + ") and " + detail);
  };
  if (auto st = config::check_readable(cfg.policy); !st)
    return unreachable("no persisted copy to serve: " + st.error().message);
  auto text = config::read_policy_file(cfg.policy);
  if (!text) return unreachable("the persisted copy cannot be read: " + text.error().message);
  auto header = follow::parse_copy_header(*text);
  if (!header) return unreachable(cfg.policy + ": " + header.error().message);
  if (header->prefix != src.prefix || header->appliance != src.appliance)
    return unreachable(cfg.policy + " is the copy of prefix " + header->prefix + " for appliance " +
                       header->appliance + ", not of " + src.prefix + " for " + src.appliance);
  auto pol = config::load_policy_text(*text, cfg.policy);
  if (!pol) return core::make_error(pol.error().message);
  s.policy = std::move(*pol);
  s.revision = header->revision;
  s.copy_text = std::move(*text);
  s.log_line = "etcd: unreachable at start; serving the persisted copy " + cfg.policy + " (revision " +
               std::to_string(s.revision) + ")";
  return s;
}

}  // namespace

core::Expected<EtcdStart> load_etcd_at_start(const config::DaemonConfig& cfg) {
  const auto& src = cfg.policy_source.source;
  etcd::ClientOptions opts;
  opts.endpoints = src.endpoints;
  opts.call_timeout = kStartCallTimeout;
  auto client = etcd::Client::create(opts);
  if (!client) return core::make_error("sgfwd: policy_source.etcd: " + client.error().message);
  EtcdStart s;
  s.client = *client;
  auto range = s.client->range_prefix(src.prefix);
  if (!range) return from_copy(cfg, std::move(s), range.error().message);
  s.from_etcd = true;
  s.revision = range->revision;
  s.endpoint = s.client->current_endpoint();
  for (auto& kv : range->kvs) s.kvs.emplace(std::move(kv.key), std::move(kv.value));
  auto pol = fleet::decode_policy(s.kvs, src.prefix, src.appliance);
  if (!pol)
    return core::make_error("sgfwd: etcd " + src.prefix + " at revision " + std::to_string(s.revision) + ": " +
                            pol.error().message);
  s.policy = std::move(*pol);
  s.log_line = "etcd: loaded revision " + std::to_string(s.revision) + " (" + std::to_string(s.kvs.size()) + " keys)";
  return s;
}

}  // namespace sgfw::daemon
