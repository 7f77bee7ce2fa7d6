// sgfwd: the appliance daemon. Thin: command line (CLI11), then lib/daemon.
#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"

int main(int argc, char** argv) {
  CLI::App app{"sgfwd: DPDK security-group firewall appliance"};
  sgfw::daemon::Options opt;
  app.add_option("--config", opt.config_file, "daemon configuration file")->required();
  app.add_flag("--check", opt.check_only, "load and compile config and policy, print a summary, exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    return sgfw::daemon::run(opt);
  } catch (const std::exception& e) {
    std::cerr << "sgfwd: " << e.what() << "\n";
    return 1;
  }
}
