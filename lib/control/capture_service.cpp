// The capture and trace sessions (docs/capture.md): arm, drain, end, reply.
// rte_pcapng is experimental in DPDK 22.11 (docs/capture.md, "DPDK API").
#define ALLOW_EXPERIMENTAL_API 1
#include "control/capture_service.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "capture/pcapng_comment.hpp"
#include "control/capture_base64.hpp"
#include "control/capture_trace_json.hpp"
#include "core/drop_reason.hpp"
#include "protocol/protocol.hpp"

namespace sgfw::control {

namespace {

constexpr unsigned kRingSize = 4096;  // what the workers may hand over between two ticks
constexpr unsigned kPoolSize = 4095;
using Clock = std::chrono::steady_clock;
unsigned g_serial = 0;  // unique DPDK object names

void wait_for_workers(const runtime::Publisher* p) {
  if (p != nullptr && p->rcu() != nullptr) rte_rcu_qsbr_synchronize(p->rcu(), RTE_QSBR_THRID_INVALID);
}

}  // namespace

struct TapService::CaptureRun {
  std::unique_ptr<capture::CaptureTap> tap = std::make_unique<capture::CaptureTap>();
  uint64_t connection = 0;
  Clock::time_point deadline;
  const runtime::Publisher* publisher = nullptr;
  int memfd = -1;
  rte_pcapng_t* writer = nullptr;
  uint64_t written = 0;
  uint64_t write_errors = 0;
  uint64_t reasons[core::kDropReasonCount] = {};
  ~CaptureRun() {
    if (writer) rte_pcapng_close(writer);  // closes its descriptor (a dup of memfd)
    if (memfd >= 0) close(memfd);
    if (tap->ring) {
      void* m;
      while (rte_ring_sc_dequeue(tap->ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      rte_ring_free(tap->ring);
    }
    if (tap->pool) rte_mempool_free(tap->pool);
  }
  void drain() {
    rte_mbuf* pkts[32];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(tap->ring, reinterpret_cast<void**>(pkts), 32, nullptr)) != 0) {
      for (unsigned i = 0; i < n; ++i) {
        const uint32_t r = pkts[i]->hash.usr;
        if (r != 0 && r <= core::kDropReasonCount) {
          ++reasons[r - 1];
          if (!capture::add_epb_comment(pkts[i], core::kDropReasonNames[r - 1])) ++write_errors;
        }
      }
      if (rte_pcapng_write_packets(writer, pkts, static_cast<uint16_t>(n)) < 0) write_errors += n;
      else written += n;
      rte_pktmbuf_free_bulk(pkts, n);
    }
  }
};

struct TapService::TraceRun {
  std::unique_ptr<capture::TraceTap> tap = std::make_unique<capture::TraceTap>();
  uint64_t connection = 0;
  Clock::time_point deadline;
  const runtime::Publisher* publisher = nullptr;
  std::vector<std::string> port_names;
  nlohmann::ordered_json packets = nlohmann::ordered_json::array();
  ~TraceRun() {
    if (tap->ring) rte_ring_free(tap->ring);
  }
  void drain() {
    capture::TraceRecord recs[16];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(tap->ring, recs, sizeof(capture::TraceRecord), 16, nullptr)) != 0)
      for (unsigned i = 0; i < n; ++i) packets.push_back(trace_packet_json(recs[i], publisher->current(), port_names));
  }
};

TapService::~TapService() {
  // At exit, perhaps after the EAL is gone: disarmed, DPDK objects left to the exit
  // (stop() frees them while the EAL runs).
  capture::process_taps().capture.store(nullptr);
  capture::process_taps().trace.store(nullptr);
  (void)capture_.release();
  (void)trace_.release();
}

void TapService::stop() {
  Deliver ignore = [](uint64_t, const std::string&) {};
  if (capture_) finish_capture(ignore, "stopped");
  if (trace_) finish_trace(ignore, "stopped");
}

core::Status TapService::start_capture(const CaptureRequest& r, const CaptureFilter& f, uint64_t connection,
                                       const runtime::Publisher* publisher) {
  if (capture_) return core::make_error("a capture is already running (one at a time): try again when it ends");
  auto run = std::make_unique<CaptureRun>();
  capture::CaptureTap& t = *run->tap;
  t.drops_only = r.drops;
  t.port = f.port;
  t.by_vm = f.by_vm;
  t.vm_mac = f.vm_mac;
  t.vm_port = f.vm_port;
  t.count = r.count;
  const std::string suffix = std::to_string(++g_serial);
  const uint32_t room = rte_pcapng_mbuf_size(capture::kSnapLen) + capture::kCommentRoom;
  t.pool = rte_pktmbuf_pool_create(("sgfw_cap_" + suffix).c_str(), kPoolSize, 0, 0, static_cast<uint16_t>(room),
                                   SOCKET_ID_ANY);
  if (t.pool == nullptr) return core::make_error(std::string("capture: no mempool: ") + rte_strerror(rte_errno));
  t.ring = rte_ring_create(("sgfw_capr_" + suffix).c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (t.ring == nullptr) return core::make_error(std::string("capture: no ring: ") + rte_strerror(rte_errno));
  run->memfd = memfd_create("sgfw-capture", MFD_CLOEXEC);
  if (run->memfd < 0) return core::make_error("capture: memfd_create failed");
  int fd = dup(run->memfd);
  if (fd < 0) return core::make_error("capture: dup failed");
  std::string comment = "sgfwd capture";
  if (r.drops) comment += " --drops";
  if (!r.vm.empty()) comment += " --vm " + r.vm;
  if (!r.port.empty()) comment += " --port " + r.port;
  run->writer = rte_pcapng_fdopen(fd, nullptr, nullptr, "sgfwd", comment.c_str());
  if (run->writer == nullptr) {
    close(fd);
    return core::make_error(std::string("capture: cannot start the pcapng file: ") + rte_strerror(rte_errno));
  }
  run->connection = connection;
  run->publisher = publisher;
  run->deadline = Clock::now() + std::chrono::seconds(r.timeout_s);
  capture_ = std::move(run);
  capture::process_taps().capture.store(capture_->tap.get(), std::memory_order_release);
  return {};
}

core::Status TapService::start_trace(const TraceRequest& r, uint64_t connection, const runtime::Publisher* publisher,
                                     std::vector<std::string> port_names) {
  if (trace_) return core::make_error("a trace is already running (one at a time): try again when it ends");
  auto run = std::make_unique<TraceRun>();
  capture::TraceTap& t = *run->tap;
  const policy::PacketTuple& tu = r.tuple;
  t.family = tu.src.is_v4() ? 4 : 6;
  t.proto = tu.proto;
  if (tu.src.is_v4()) {
    const uint32_t a = htonl(tu.src.v4.value), b = htonl(tu.dst.v4.value);
    std::memcpy(t.a, &a, 4);
    std::memcpy(t.b, &b, 4);
  } else {
    std::memcpy(t.a, tu.src.v6.bytes.data(), 16);
    std::memcpy(t.b, tu.dst.v6.bytes.data(), 16);
  }
  t.a_port_be = htons(tu.sport);
  t.b_port_be = htons(tu.dport);
  t.count = r.count;
  const uint32_t ring_size = 1024;
  t.ring = rte_ring_create_elem(("sgfw_trace_" + std::to_string(++g_serial)).c_str(), sizeof(capture::TraceRecord),
                                ring_size, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (t.ring == nullptr) return core::make_error(std::string("trace: no ring: ") + rte_strerror(rte_errno));
  run->connection = connection;
  run->publisher = publisher;
  run->port_names = std::move(port_names);
  run->deadline = Clock::now() + std::chrono::seconds(r.timeout_s);
  trace_ = std::move(run);
  capture::process_taps().trace.store(trace_->tap.get(), std::memory_order_release);
  return {};
}

void TapService::finish_capture(const Deliver& deliver, const char* why) {
  capture::process_taps().capture.store(nullptr, std::memory_order_release);
  wait_for_workers(capture_->publisher);  // no worker holds the tap any more
  capture_->drain();
  CaptureRun& run = *capture_;
  nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
  for (size_t i = 0; i < core::kDropReasonCount; ++i)
    if (run.reasons[i] != 0) reasons[std::string(core::kDropReasonNames[i])] = run.reasons[i];
  std::string file;
  off_t size = lseek(run.memfd, 0, SEEK_END);
  bool read_ok = size >= 0;
  if (read_ok) {
    file.resize(static_cast<size_t>(size));
    read_ok = pread(run.memfd, file.data(), file.size(), 0) == size;
  }
  const uint64_t lost = run.tap->lost.load() + run.write_errors;
  nlohmann::ordered_json result{{"captured", run.written},
                                {"lost", lost},
                                {"ended", why},
                                {"reasons", reasons},
                                {"pcapng", base64_encode(file)}};
  const uint64_t connection = run.connection;
  capture_.reset();
  deliver(connection, read_ok ? protocol::encode_ok(std::move(result))
                              : protocol::encode_error("capture: the capture file could not be read back"));
}

void TapService::finish_trace(const Deliver& deliver, const char* why) {
  capture::process_taps().trace.store(nullptr, std::memory_order_release);
  wait_for_workers(trace_->publisher);
  trace_->drain();
  nlohmann::ordered_json result{{"followed", trace_->packets.size()},
                                {"lost", trace_->tap->lost.load()},
                                {"ended", why},
                                {"packets", std::move(trace_->packets)}};
  const uint64_t connection = trace_->connection;
  trace_.reset();
  deliver(connection, protocol::encode_ok(std::move(result)));
}

void TapService::tick(const Deliver& deliver) {
  const auto now = Clock::now();
  if (capture_) {
    capture_->drain();
    if (capture_->tap->done()) finish_capture(deliver, "count");
    else if (now >= capture_->deadline) finish_capture(deliver, "timeout");
  }
  if (trace_) {
    trace_->drain();
    if (trace_->tap->done()) finish_trace(deliver, "count");
    else if (now >= trace_->deadline) finish_trace(deliver, "timeout");
  }
}

TapService& tap_service() {
  static TapService service;
  return service;
}

void tap_tick(const Deliver& deliver) { tap_service().tick(deliver); }

}  // namespace sgfw::control
