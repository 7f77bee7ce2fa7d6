#include "ctl/helper_exec.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <vector>

namespace sgfw::ctl {

std::string find_etcd_helper(const std::string& install_dir) {
  if (const char* env = std::getenv("SGFWCTL_ETCD"); env && *env) return env;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.erase(dir.find_last_of('/') + 1);
    std::string beside = dir + kEtcdHelper;
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
  return install_dir + "/" + kEtcdHelper;
}

int exec_etcd_helper(const std::string& install_dir, int argc, char** argv, std::ostream& err) {
  std::string path = find_etcd_helper(install_dir);
  std::vector<char*> args;
  args.push_back(path.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(path.c_str(), args.data());
  err << "sgfwctl: cannot run " << path << ": " << std::strerror(errno)
      << " (policy push/pull run in this helper, installed with sgfwctl)\n";
  return 1;
}

}  // namespace sgfw::ctl
