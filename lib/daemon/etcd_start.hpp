// The start-up load with an etcd policy source (docs/fleet.md, "Following the policy
// live", step 1): every key under the prefix at one revision, decoded for this
// appliance; or, when etcd cannot be reached within a few seconds, the persisted copy
// (the `policy` path). Main thread, before the EAL; control path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "etcd/client.hpp"
#include "fleet/key_layout.hpp"
#include "policy/model.hpp"

namespace sgfw::daemon {

struct EtcdStart {
  std::shared_ptr<etcd::Client> client;
  bool from_etcd = false;       // false: the persisted copy
  fleet::KeyValues kvs;         // from_etcd: etcd's keys at `revision`
  int64_t revision = 0;         // the revision the policy reflects (the copy's header)
  std::string endpoint;         // from_etcd: the member that answered
  policy::Policy policy;
  std::string copy_text;        // the persisted copy's text (from the copy)
  std::string log_line;         // the contract's line to print ("etcd: loaded ..." / "etcd: unreachable ...")
};

// Errors: bad endpoints, a refused policy in etcd ("sgfwd: etcd /sgfw/ at revision R:
// KEY: message"), etcd unreachable with no usable persisted copy.
[[nodiscard]] core::Expected<EtcdStart> load_etcd_at_start(const config::DaemonConfig& cfg);

}  // namespace sgfw::daemon
