#include "logs/log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sgfw::logs {

namespace {

core::Expected<FILE*> open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return core::make_error("cannot open log file " + path + ": " + std::strerror(errno));
  FILE* f = fdopen(fd, "a");
  if (f == nullptr) {
    ::close(fd);
    return core::make_error("cannot open log file " + path + ": " + std::strerror(errno));
  }
  setvbuf(f, nullptr, _IOFBF, 1 << 16);
  return f;
}

}  // namespace

core::Expected<void> LogFile::open(const std::string& path) {
  auto f = open_append(path);
  if (!f) return core::make_error(f.error().message);
  close();
  path_ = path;
  f_ = *f;
  return {};
}

core::Expected<void> LogFile::reopen() {
  auto f = open_append(path_);
  if (!f) return core::make_error(f.error().message);
  close();
  f_ = *f;
  return {};
}

bool LogFile::write_line(const std::string& line) {
  if (f_ == nullptr) return false;
  return std::fwrite(line.data(), 1, line.size(), f_) == line.size() && std::fputc('\n', f_) != EOF;
}

void LogFile::flush() {
  if (f_) std::fflush(f_);
}

void LogFile::close() {
  if (f_) std::fclose(f_);
  f_ = nullptr;
}

}  // namespace sgfw::logs
