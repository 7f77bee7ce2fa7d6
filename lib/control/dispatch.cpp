// ControlPlane's request dispatch: a request line parsed by the protocol module, then
// the command it names. Control thread only.
#include <iostream>

#include "control/capture_request.hpp"
#include "control/capture_start.hpp"
#include "control/control_plane.hpp"
#include "core/escape.hpp"
#include "policy/limits.hpp"

namespace sgfw::control {

namespace {

std::string reply_of(const core::Expected<Json>& r) {
  return r ? protocol::encode_ok(*r) : protocol::encode_error(core::escape_for_log(r.error().message, 4096));
}

}  // namespace

std::optional<std::string> ControlPlane::handle(const std::string& line, const Peer& peer) {
  return dispatch(line, peer, true);
}

std::string ControlPlane::handle_now(const std::string& line, const Peer& peer) {
  return *dispatch(line, peer, false);
}

std::optional<std::string> ControlPlane::dispatch(const std::string& line, const Peer& peer, bool defer_changes) {
  retired_.reset();  // the previous request's reply is out
  try {
    // capture and trace (docs/capture.md): answered when the session ends (TapService).
    if (auto tap = parse_tap_request(line)) {
      if (!*tap) return protocol::encode_error(tap->error().message);
      if (!defer_changes) return protocol::encode_error("capture and trace need the running daemon's workers");
      auto st = start_tap(**tap, peer.connection, publisher_, dataplane_);
      if (!st) return protocol::encode_error(st.error().message);
      return std::nullopt;
    }
    auto parsed = protocol::parse_request(line);
    if (!parsed) return protocol::encode_error(parsed.error().message);
    protocol::Request& req = *parsed;
    if (std::holds_alternative<protocol::StatusRequest>(req)) return protocol::encode_ok(status());
    if (auto* r = std::get_if<protocol::StatsRequest>(&req)) return reply_of(stats(r->vm));
    if (auto* r = std::get_if<protocol::ExplainRequest>(&req)) return protocol::encode_ok(explain(r->packets));
    if (auto* r = std::get_if<protocol::FlowsRequest>(&req)) return reply_of(flows(r->vm, r->limit));
    if (auto* r = std::get_if<protocol::FlushRequest>(&req)) return reply_of(flush(r->vm, peer));
    ChangeRequest change;
    if (auto* r = std::get_if<protocol::ReloadRequest>(&req)) {
      change.text = std::move(r->policy);
      change.name = std::move(r->name);
    } else {
      auto& sg = std::get<protocol::SetGroupsRequest>(req);
      if (sg.groups.size() > policy::kMaxGroupsPerVm)
        return protocol::encode_error("a VM lists at most " + std::to_string(policy::kMaxGroupsPerVm) +
                                      " security groups");
      change.kind = ChangeRequest::Kind::kSetGroups;
      change.vm = std::move(sg.vm);
      change.groups = std::move(sg.groups);
    }
    if (source_.change && defer_changes) return source_.change(std::move(change), peer);
    if (!defer_changes) return reply_of(change_now(std::move(change), peer));
    if (peer.uid != 0 && changes_.building() && changes_.waiting_from_members() >= kMaxWaitingMemberChanges)
      return protocol::encode_error(std::to_string(changes_.waiting_from_members()) +
                                    " changes from members are waiting behind the one building: send this one "
                                    "again once they are done");
    changes_.submit(ChangeJob{std::move(change), peer});
    return std::nullopt;
  } catch (const std::exception& e) {
    return protocol::encode_error(std::string("internal error: ") + e.what());
  } catch (...) {
    return protocol::encode_error("internal error");
  }
}

}  // namespace sgfw::control
