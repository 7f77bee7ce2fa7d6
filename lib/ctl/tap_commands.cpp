// sgfwctl capture and trace (docs/capture.md). The capture file is created here, with
// the caller's permissions; the daemon never opens a client-chosen path.
#include "ctl/tap_commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>

#include "ctl/base64.hpp"
#include "ctl/client.hpp"
#include "explain/tuple_text.hpp"

namespace sgfw::ctl {

namespace {

constexpr int kDefaultTimeout = 60;  // as the daemon's (control/capture_request.hpp)

// The reply of a call, or an exit code already reported.
std::optional<Json> exchange(const LiveOptions& o, const Json& request, long timeout_s, std::ostream& out,
                             std::ostream& err, int* code) {
  CallResult r = call_line(o.socket, request.dump(), static_cast<int>(timeout_s) + 30);
  if (r.status == CallResult::Status::kUnreachable) {
    err << "sgfwctl: daemon not reachable: " << r.error << "\n";
    *code = 3;
    return std::nullopt;
  }
  if (r.status == CallResult::Status::kRejected) {
    if (o.json) out << protocol::encode_error(r.error) << "\n";
    else err << r.error << "\n";
    *code = 1;
    return std::nullopt;
  }
  return std::move(r.result);
}

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int run_capture(const LiveOptions& o, const CaptureOptions& c, std::ostream& out, std::ostream& err) {
  if (c.file.empty()) {
    err << "sgfwctl capture: -w FILE is required\n";
    return 2;
  }
  // Opened before asking the daemon: a file the caller may not write is an error now.
  bool created = access(c.file.c_str(), F_OK) != 0;
  int fd = open(c.file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    err << "sgfwctl capture: cannot write " << c.file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  Json args = Json::object();
  if (!c.vm.empty()) args["vm"] = c.vm;
  if (!c.port.empty()) args["port"] = c.port;
  if (c.drops) args["drops"] = true;
  if (c.count) args["count"] = *c.count;
  if (c.timeout) args["timeout"] = *c.timeout;
  int code = 0;
  auto result = exchange(o, Json{{"cmd", "capture"}, {"args", args}}, c.timeout.value_or(kDefaultTimeout), out, err,
                         &code);
  std::optional<std::string> file;
  if (result && result->contains("pcapng") && (*result)["pcapng"].is_string())
    file = base64_decode((*result)["pcapng"].get<std::string>());
  if (result && !file) {
    err << "sgfwctl capture: unexpected reply (no capture file)\n";
    code = 1;
  }
  if (code != 0 || !file) {
    close(fd);
    if (created) unlink(c.file.c_str());
    return code;
  }
  if (ftruncate(fd, 0) != 0 || !write_all(fd, *file) || close(fd) != 0) {
    err << "sgfwctl capture: cannot write " << c.file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  result->erase("pcapng");
  (*result)["file"] = c.file;
  if (o.json) {
    out << result->dump() << "\n";
    return 0;
  }
  out << "captured " << (*result)["captured"].get<uint64_t>() << " packets to " << c.file << " (lost "
      << (*result)["lost"].get<uint64_t>() << ", ended by " << (*result)["ended"].get<std::string>() << ")\n";
  for (const auto& [reason, n] : (*result)["reasons"].items()) out << "  " << reason << ": " << n.get<uint64_t>() << "\n";
  return 0;
}

int run_trace(const LiveOptions& o, const TraceOptions& t, std::ostream& out, std::ostream& err) {
  auto tuple = explain::parse_tuple(t.proto, t.src, t.dst, t.icmp_type, t.icmp_code);
  if (!tuple) {
    err << "sgfwctl trace: " << tuple.error().message << "\n";
    return 2;
  }
  Json args{{"proto", t.proto}, {"src", t.src}, {"dst", t.dst}};
  if (t.icmp_type) args["icmp_type"] = *t.icmp_type;
  if (t.icmp_code) args["icmp_code"] = *t.icmp_code;
  if (t.count) args["count"] = *t.count;
  if (t.timeout) args["timeout"] = *t.timeout;
  int code = 0;
  auto result = exchange(o, Json{{"cmd", "trace"}, {"args", args}}, t.timeout.value_or(kDefaultTimeout), out, err,
                         &code);
  if (!result) return code;
  try {
    out << (o.json ? result->dump() + "\n" : trace_text(*result));
  } catch (const std::exception& e) {
    err << "sgfwctl: unexpected reply: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace sgfw::ctl
