#include "ctl/etcd_target.hpp"

#include "core/escape.hpp"
#include "etcd/endpoint.hpp"
#include "fleet/key_layout.hpp"
#include "policy/model.hpp"

namespace sgfw::ctl {

namespace {

TargetResult failure(int code, std::string message) {
  TargetResult r;
  r.code = code;
  r.error = std::move(message);
  return r;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The same checks whichever way the target came.
TargetResult checked(EtcdTarget t, bool need_appliance, const std::string& origin) {
  if (auto e = etcd::parse_endpoints(t.endpoints); !e) return failure(1, origin + e.error().message);
  if (auto st = fleet::check_prefix(t.prefix); !st) return failure(1, origin + st.error().message);
  if (need_appliance && !policy::is_valid_name(t.appliance))
    return failure(1, origin + "appliance name '" + core::escape_for_log(t.appliance, 100) +
                          "': names are 1-63 of [a-z0-9-], starting and ending with a letter or digit");
  TargetResult r;
  r.target = std::move(t);
  return r;
}

}  // namespace

TargetResult target_from_status(const Json& status_result) {
  auto src = status_result.find("policy_source");
  if (src == status_result.end() || !src->is_object())
    return failure(1, "sgfwd's status has no policy_source (an sgfwd before etcd support?): "
                      "give --endpoints, --prefix and --appliance");
  auto kind = src->find("kind");
  if (kind != src->end() && *kind == "file") {
    std::string path = src->contains("path") && (*src)["path"].is_string() ? (*src)["path"].get<std::string>() : "?";
    return failure(1, "sgfwd's policy source is the file " + core::escape_for_log(path, 300) +
                          ", not etcd (give --endpoints, --prefix and --appliance to use an etcd anyway)");
  }
  if (kind == src->end() || *kind != "etcd") return failure(1, "sgfwd's policy_source has an unknown kind");
  EtcdTarget t;
  auto eps = src->find("endpoints");
  if (eps == src->end() || !eps->is_array()) return failure(1, "sgfwd's policy_source has no endpoints");
  for (const auto& e : *eps) {
    if (!e.is_string()) return failure(1, "sgfwd's policy_source has an endpoint that is not a string");
    t.endpoints.push_back(e.get<std::string>());
  }
  auto text = [&](const char* key) -> std::string {
    auto it = src->find(key);
    return it != src->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  t.prefix = text("prefix");
  t.appliance = text("appliance");
  return checked(std::move(t), true, "sgfwd's policy_source: ");
}

namespace {

bool complete(const EtcdFlags& flags, bool need_appliance) {
  return !flags.endpoints.empty() && !flags.prefix.empty() && (!need_appliance || !flags.appliance.empty());
}

}  // namespace

std::string flags_usage_error(const EtcdFlags& flags, bool need_appliance) {
  int given = !flags.endpoints.empty() + !flags.prefix.empty() + !flags.appliance.empty();
  if (given == 0 || complete(flags, need_appliance)) return {};
  return need_appliance ? "give all of --endpoints, --prefix and --appliance, or none of them "
                          "(then sgfwctl asks sgfwd for its policy source)"
                        : "give --endpoints and --prefix, or neither (then sgfwctl asks sgfwd "
                          "for its policy source)";
}

TargetResult resolve_target(const EtcdFlags& flags, const std::string& socket, bool need_appliance) {
  if (auto usage = flags_usage_error(flags, need_appliance); !usage.empty()) return failure(2, usage);
  if (complete(flags, need_appliance)) {
    EtcdTarget t{split_commas(flags.endpoints), flags.prefix, flags.appliance};
    return checked(std::move(t), need_appliance, "");
  }
  CallResult r = call(socket, protocol::StatusRequest{}, 10);
  if (r.status == CallResult::Status::kUnreachable)
    return failure(3, "daemon not reachable: " + r.error +
                          " (without --endpoints, --prefix and --appliance sgfwctl asks sgfwd where etcd is)");
  if (r.status == CallResult::Status::kRejected) return failure(1, "sgfwd refused status: " + r.error);
  return target_from_status(r.result);
}

}  // namespace sgfw::ctl
