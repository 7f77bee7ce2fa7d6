#include "daemon/service_notify.hpp"

#ifdef SGFW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace sgfw::daemon {

namespace {

void notify(const char* state) {
#ifdef SGFW_HAVE_SYSTEMD
  // unset_environment = 0: the workers and the EAL do not exec, nothing inherits it.
  // The result is ignored: without NOTIFY_SOCKET it is 0, and a failed send to systemd
  // changes nothing the daemon could act on.
  (void)sd_notify(0, state);
#else
  (void)state;
#endif
}

}  // namespace

void notify_ready() { notify("READY=1\nSTATUS=running"); }

void notify_stopping() { notify("STOPPING=1\nSTATUS=stopping"); }

}  // namespace sgfw::daemon
