#include "daemon/daemon.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "config/daemon_config.hpp"
#include "daemon/device_lock.hpp"
#include "daemon/flow_tables.hpp"
#include "daemon/log_service.hpp"
#include "daemon/preflight.hpp"
#include "daemon/service_notify.hpp"
#include "report/plural.hpp"
#include "capture/taps.hpp"
#include "control/capture_service.hpp"
#include "control/control_plane.hpp"
#include "control/socket_server.hpp"
#include "daemon/live_dataplane.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/telemetry.hpp"
#include "daemon/worker_plan.hpp"
#include "daemon/etcd_follower.hpp"
#include "report/tables.hpp"
#include "ports/ports.hpp"
#include "dataplane/worker.hpp"
#include "eal/eal_session.hpp"
#include "flow/flow_table.hpp"
#include "runtime/publisher.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::daemon {

namespace {

// Connection sweeping: one slice of every table per step (docs/design/flow-table.md).
constexpr uint32_t kSweepSlices = 10;
constexpr auto kSweepStep = std::chrono::milliseconds(50);

std::atomic<bool> g_stop{false};
std::atomic<bool> g_dump{false};
std::atomic<bool> g_reopen{false};  // SIGHUP: reopen the log files (docs/logs.md)

extern "C" void on_signal(int sig) {
  if (sig == SIGUSR1) g_dump.store(true);
  else if (sig == SIGHUP) g_reopen.store(true);
  else g_stop.store(true);
}

bool has_lcore_arg(const std::vector<std::string>& eal) {
  for (const auto& a : eal)
    if (a == "-l" || a == "-c" || a.rfind("--lcores", 0) == 0 || a.rfind("-l", 0) == 0) return true;
  return false;
}

// Main lcore + one lcore per worker, floating over the CPUs this process may use
// (on a 2-core machine with 2 workers the three threads share two CPUs).
std::string default_lcores(unsigned workers) {
  cpu_set_t set;
  std::string cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
  }
  if (cpus.empty()) cpus = "0";
  return "--lcores=(0-" + std::to_string(workers) + ")@(" + cpus + ")";
}

runtime::PortLayout layout_of(const config::DaemonConfig& cfg) {
  runtime::PortLayout l;
  l.names = cfg.port_names();
  l.uplink = static_cast<uint16_t>(cfg.uplink_index());
  return l;
}

void print_summary(const config::DaemonConfig& cfg, const runtime::Snapshot& s) {
  const auto& p = s.policy();
  size_t rules = 0, local = 0;
  for (const auto& g : p.groups) rules += g.rules.size();
  for (const auto& vm : p.vms) local += vm.is_local();
  const auto& c = s.tables().compiled();
  std::cout << cfg.file << ": ok\n"
            << "  " << report::count_of(cfg.ports.size(), "port") << ", " << report::count_of(cfg.workers, "worker")
            << "\n"
            << "  policy " << cfg.policy << ": " << report::count_of(p.vms.size(), "VM") << " (" << local << " local), "
            << report::count_of(p.groups.size(), "security group") << ", " << report::count_of(rules, "rule") << "\n"
            << "  compiled: " << report::count_of(c.images.size(), "rte_acl context") << ", "
            << report::count_of(c.acl_rule_count(), "ACL rule") << ", "
            << report::count_of(c.class_groups.size() - 1, "address class", "address classes") << ", "
            << s.tables().dpdk_bytes() / 1024 << " KiB of DPDK memory\n";
}

// What the telemetry commands answer from (telemetry.hpp).
std::string telemetry_json(const control::ControlPlane& control) {
  control::Json j{{"stats", *control.stats("")}, {"status", control.status()},
                  {"load_seconds", control.policy_load().seconds}};
  return j.dump();
}

void dump_stats(control::ControlPlane& control) {
  auto s = control.stats("");  // no VM filter: never an error
  std::cout << "stats: " << s->dump() << "\n" << report::stats_text(*s) << std::flush;
}

// Starts one worker per setup on the EAL's worker lcores; a worker that cannot be
// launched stops the others (the daemon then shuts down).
void launch_workers(std::vector<dataplane::WorkerSetup>& setups) {
  unsigned w = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (w == setups.size()) break;
    int rc = rte_eal_remote_launch(dataplane::worker_main, &setups[w], lcore);
    if (rc != 0) {
      std::cerr << "sgfwd: cannot launch worker " << w << " on lcore " << lcore << "\n";
      g_stop.store(true);
      break;
    }
    ++w;
  }
}

// sgfwd --check: everything a start would do that needs no device.
int check_only(const Preflight& pf, const std::string& served) {
  const config::DaemonConfig& cfg = pf.cfg;
  if (pf.socket == SocketPathState::kServed) std::cout << "sgfwd: note: a start would stop here: " << served << "\n";
  for (const auto& n : DeviceLocks::holders(cfg)) std::cout << "sgfwd: note: " << n << "\n";
  auto eal = eal::EalSession::init(eal::offline_args("sgfwd-check", 2048));
  if (!eal) {
    std::cerr << "sgfwd: " << eal.error().message << "\n";
    return 1;
  }
  acl::BuildOptions acl_opts;
  acl_opts.max_size = cfg.acl_max_size;
  auto snap = runtime::Snapshot::build(pf.policy, layout_of(cfg), 1, 1, acl_opts);
  if (!snap) {
    std::cerr << cfg.policy << ": " << snap.error().message << "\n";
    return 1;
  }
  print_summary(cfg, **snap);
  return 0;
}

// The control thread's loop until SIGTERM/SIGINT: requests, committed changes, SIGUSR1
// counter dumps and housekeeping every 500 ms.
// metrics: GET /metrics, rendered here on the control thread (null: metrics.listen unset).
// logs: the connection and drop logs (null: logs unset), drained every pass.
// telemetry: the /sgfw/ telemetry commands, answered the same way (null: not registered).
// watchdog: WATCHDOG=1 while the workers make progress (null: systemd asked for none).
// follower: the etcd policy source (null: the policy file), pumped every pass.
void serve(control::ControlPlane& control, control::SocketServer& server, FlowTables& tables,
           MetricsServer* metrics, LogService* logs, Telemetry* telemetry, ServiceWatchdog* watchdog,
           EtcdFollower* follower) {
  // Nothing a client sends may unwind run() while the workers use its state.
  auto handler = [&control](const std::string& line, const control::Peer& peer) -> std::optional<std::string> {
    try {
      return control.handle(line, peer);
    } catch (...) {
      return R"({"ok":false,"error":"internal error"})";
    }
  };
  auto last_reclaim = std::chrono::steady_clock::now();
  server.watch(control.change_wake_fd());  // a finished build wakes the loop at once
  if (follower) server.watch(follower->wake_fd());  // and so does a watch event
  auto deliver = [&server](uint64_t connection, const std::string& reply) { server.deliver(connection, reply); };
  while (!g_stop.load()) {
    // Without the wake descriptor a commit is looked for every 5 ms while a change builds.
    server.poll_once(control.changes_pending() && control.change_wake_fd() < 0 ? 5 : 50, handler);
    control.collect(deliver);
    if (follower) follower->pump(deliver);
    control::tap_tick([&server](uint64_t connection, const std::string& reply) { server.deliver(connection, reply); });
    if (g_dump.exchange(false)) dump_stats(control);
    if (g_reopen.exchange(false) && logs) logs->reopen();
    // A scrape waits at most one poll (50 ms) for its text.
    if (metrics) metrics->serve_pending([&control] { return control.metrics_text(); });
    if (telemetry) telemetry->serve_pending([&control] { return telemetry_json(control); });
    if (watchdog) watchdog->tick(std::chrono::steady_clock::now());
    // The tables are swept in kSweepSlices steps of kSweepStep each, a whole sweep per
    // ~500 ms, so that a large table never stalls the loop for a whole sweep
    // (docs/design/flow-table.md, "Sweeping").
    if (std::chrono::steady_clock::now() - last_reclaim > kSweepStep) {
      control.reclaim(kSweepSlices);
      tables.reclaim_fragments(rte_rdtsc(), kSweepSlices);  // the connections: control.reclaim()
      last_reclaim = std::chrono::steady_clock::now();
    }
    if (logs) logs->drain();
  }
}

}  // namespace

int run(const Options& opt) {
  // Steps 1-2 of docs/daemon.md: everything that needs no device (--check runs it all).
  // The start-up load's duration: preflight (read, validate) plus the first compile.
  auto load_started = std::chrono::steady_clock::now();
  auto pf = preflight(opt.config_file);
  std::chrono::duration<double> load_time = std::chrono::steady_clock::now() - load_started;
  if (!pf) {
    std::cerr << pf.error().message << "\n";
    return 1;
  }
  for (const auto& w : pf->warnings) std::cout << "sgfwd: warning: " << w << "\n";
  for (const auto& n : pf->notes) std::cout << "sgfwd: note: " << n << "\n";
  std::cout << std::flush;
  auto cfg = &pf->cfg;
  auto pol = &pf->policy;
  const std::string& policy_text = pf->policy_text;
  acl::BuildOptions acl_opts;
  acl_opts.max_size = cfg->acl_max_size;

  const std::string served = "another daemon is serving " + cfg->control_socket +
                             ": stop it, or give this daemon another control_socket";
  if (opt.check_only) return check_only(*pf, served);

  if (pf->socket == SocketPathState::kServed) {
    std::cerr << "sgfwd: control socket: " << served << "\n";
    return 1;
  }
  // One daemon per interface: held until the process exits.
  auto locks = DeviceLocks::acquire(*cfg);
  if (!locks) {
    std::cerr << "sgfwd: " << locks.error().message << "\n";
    return 1;
  }

  std::vector<std::string> eal_args = cfg->eal;
  if (!has_lcore_arg(eal_args)) eal_args.push_back(default_lcores(cfg->workers));
  if (pf->journal_applied != 0)
    std::cout << "sgfwd: " << pf->journal_applied << " journaled change(s) replayed from "
              << control::ChangeJournal::path_for(cfg->policy) << std::endl;
  auto eal = eal::EalSession::init(eal_args);
  if (!eal) {
    std::cerr << "sgfwd: " << eal.error().message << "\n";
    return 1;
  }
  if (rte_lcore_count() < cfg->workers + 1) {
    std::cerr << "sgfwd: " << cfg->workers << " workers need " << cfg->workers + 1
              << " lcores, the EAL has " << rte_lcore_count() << "\n";
    return 1;
  }

  // Fail closed: the policy is compiled and published before any port starts.
  auto build_started = std::chrono::steady_clock::now();
  auto snap = runtime::Snapshot::build(*pol, layout_of(*cfg), 1, cfg->workers, acl_opts);
  if (!snap) {
    std::cerr << cfg->policy << ": " << snap.error().message << "\n";
    return 1;
  }
  load_time += std::chrono::steady_clock::now() - build_started;
  auto publisher = runtime::Publisher::create(cfg->workers, std::move(*snap));
  if (!publisher) {
    std::cerr << "sgfwd: " << publisher.error().message << "\n";
    return 1;
  }

  // The connection and fragment tables of both families; the two connection tables
  // share one per-VM quota (flow_tables.hpp).
  auto tables = FlowTables::create(*cfg, rte_get_tsc_hz(), (*publisher)->rcu(), "sgfw");
  if (!tables) {
    std::cerr << "sgfwd: " << tables.error().message << "\n";
    return 1;
  }

  auto pool = ports::create_mbuf_pool(cfg->ports.size(), cfg->workers, cfg->mbufs);
  if (!pool) {
    std::cerr << "sgfwd: " << pool.error().message << "\n";
    return 1;
  }
  auto ports = ports::setup_ports(*cfg, *pool);
  if (!ports) {
    std::cerr << "sgfwd: " << ports.error().message << "\n";
    return 1;
  }

  const unsigned nw = cfg->workers;
  std::vector<std::vector<runtime::PortCounters>> port_counters(nw, std::vector<runtime::PortCounters>(ports->size()));
  std::vector<dataplane::WorkerStats> wstats(nw);
  dataplane::FlowContext flows = tables->context(*cfg);
  auto log_service = LogService::create(*cfg, *tables, flows);  // null: logs off
  if (!log_service) {
    std::cerr << "sgfwd: " << log_service.error().message << "\n";
    return 1;
  }
  std::vector<dataplane::WorkerSetup> setups = plan_workers(*ports, port_counters, wstats, publisher->get(), flows, &g_stop);
  for (auto& s : setups) s.idle_sleep_us = cfg->worker_idle_sleep_us;

  LiveDataplane dataplane_access(
      {&*ports, &port_counters, &wstats, tables->connections.get(), tables->connections6.get()});
  control::ControlPlane control(*cfg, publisher->get(), &dataplane_access, policy_text);
  control.set_startup_load_seconds(load_time.count());
  if (auto st = control.assign_vm_ids(*(*publisher)->current()); !st) {
    std::cerr << "sgfwd: " << st.error().message << "\n";
    return 1;
  }
  std::unique_ptr<EtcdFollower> follower;  // docs/fleet.md, "Following the policy live"
  if (pf->etcd) {
    auto f = EtcdFollower::start(*cfg, std::move(*pf->etcd), control, publisher->get());
    if (!f) {
      std::cerr << "sgfwd: " << f.error().message << "\n";
      return 1;
    }
    follower = std::move(*f);
  } else if (auto st = control.open_journal(); !st) {  // the file source's set-groups journal
    std::cerr << "sgfwd: journal: " << st.error().message << "\n";
    return 1;
  }
  if (*log_service) {
    if (auto st = (*log_service)->attach(control); !st) {
      std::cerr << "sgfwd: " << st.error().message << "\n";
      return 1;
    }
    dataplane_access.set_log_writer((*log_service)->writer());
  }
  auto server = control::SocketServer::open(cfg->control_socket, cfg->control_group);
  if (!server) {
    std::cerr << "sgfwd: control socket: " << server.error().message << "\n";
    return 1;
  }

  std::unique_ptr<MetricsServer> metrics;
  if (cfg->metrics_port != 0) {
    auto m = MetricsServer::start(cfg->metrics_host, cfg->metrics_port);
    if (!m) {
      std::cerr << "sgfwd: " << m.error().message << "\n";
      return 1;
    }
    metrics = std::move(*m);
  }
  // DPDK telemetry (docs/metrics.md): off with --no-telemetry in eal; a failure to
  // register is not fatal (the data plane does not need it).
  std::unique_ptr<Telemetry> telemetry;
  if (std::string sock = Telemetry::socket_path(); !sock.empty()) {
    if (auto t = Telemetry::start(); t) {
      telemetry = std::move(*t);
      std::cout << "sgfwd: telemetry: " << sock << " (commands /sgfw/...)" << std::endl;
    } else {
      std::cout << "sgfwd: warning: " << t.error().message << std::endl;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto started = ports::start_ports(*ports);
  if (!started) {
    std::cerr << "sgfwd: " << started.error().message << "\n";
    ports::stop_ports(*ports);
    return 1;
  }
  launch_workers(setups);
  std::cout << "sgfwd: running, generation " << (*publisher)->current()->generation() << ", "
            << report::count_of(ports->size(), "port") << ", " << report::count_of(nw, "worker") << ", control socket " << cfg->control_socket << ", policy persisted to "
            << cfg->policy << std::endl;
  notify_ready();  // Type=notify: ready only now (docs/packaging.md)
  auto watchdog = ServiceWatchdog::from_environment([&dataplane_access] {
    std::vector<uint64_t> loops;
    for (const auto& w : dataplane_access.workers()) loops.push_back(w.loops);
    return loops;
  });
  if (watchdog)
    std::cout << "sgfwd: watchdog: WATCHDOG=1 every "
              << std::chrono::duration_cast<std::chrono::milliseconds>(watchdog->period()).count()
              << " ms while the workers make progress" << std::endl;

  serve(control, **server, *tables, metrics.get(), log_service->get(), telemetry.get(), watchdog.get(), follower.get());
  follower.reset();  // no batch is queued after the loop
  metrics.reset();  // no scrape outlives the serve loop
  telemetry.reset();  // telemetry commands answer null from now on
  notify_stopping();
  rte_eal_mp_wait_lcore();
  control::tap_service().stop();  // a capture or trace still running: freed while the EAL runs
  ports::stop_ports(*ports);
  dump_stats(control);
  log_service->reset();  // the last records written while the control plane still names them
  server->reset();
  std::cout << "sgfwd: stopped" << std::endl;
  return 0;
}

}  // namespace sgfw::daemon
