// sgfwctl runs `policy push/pull` in its helper sgfwctl-etcd, the only sgfwctl binary
// that links gRPC (docs/fleet.md, "policy push and pull"; docs/performance.md, "sgfwctl
// start-up"). Control path; not thread-safe (replaces the process). Never throws.
#pragma once

#include <iosfwd>
#include <string>

namespace sgfw::ctl {

inline constexpr const char* kEtcdHelper = "sgfwctl-etcd";

// The helper to run: $SGFWCTL_ETCD if set, else sgfwctl-etcd beside the running
// sgfwctl (the build tree), else in `install_dir` (meson's libexecdir/sgfw).
[[nodiscard]] std::string find_etcd_helper(const std::string& install_dir);

// Replaces the process with the helper, passing sgfwctl's arguments unchanged. Returns
// only on failure: prints "sgfwctl: cannot run HELPER: REASON" and returns 1.
int exec_etcd_helper(const std::string& install_dir, int argc, char** argv, std::ostream& err);

}  // namespace sgfw::ctl
