#!/usr/bin/env python3
"""The packaging files are valid (docs/packaging.md), without building the package:

- systemd/sgfwd.service passes `systemd-analyze verify` (with the binaries of the build
  directory in place of /usr/sbin/sgfwd and /usr/bin/sgfwctl, which are not installed
  here): exit 0 and nothing on stderr;
- each man page under man/ renders with `groff -man -ww` and `man -l` without a warning;
- every file debian/sgfw.install and debian/sgfw.manpages name exists.

Exits 77 (skipped) when systemd-analyze or groff is missing (scripts/deps.sh installs
them). Building the package itself is a manual check: scripts/install.sh."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(os.environ.get("SGFW_BUILD_DIR", "build"))
SOURCE = os.path.abspath(os.environ.get("SGFW_SOURCE_DIR", "."))
failures = []


def expect(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"\n     {detail}"), flush=True)
    if not cond:
        failures.append(name)


missing = [t for t in ("systemd-analyze", "groff", "man") if shutil.which(t) is None]
if missing:
    print("SKIP: missing " + ", ".join(missing) + " (scripts/deps.sh installs them)")
    sys.exit(77)

# 1. The unit.
with tempfile.TemporaryDirectory(prefix="sgfw-unit-") as d:
    text = open(os.path.join(SOURCE, "systemd", "sgfwd.service")).read()
    for installed, built in (("/usr/sbin/sgfwd", "app/sgfwd/sgfwd"), ("/usr/bin/sgfwctl", "app/sgfwctl/sgfwctl")):
        expect(f"the unit runs {installed}", installed in text)
        text = text.replace(installed, os.path.join(BUILD, built))
    unit = os.path.join(d, "sgfwd.service")
    with open(unit, "w") as fh:
        fh.write(text)
    # --man=no: the man pages are not installed here (checked below instead).
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], capture_output=True, text=True, timeout=60)
    expect("systemd-analyze verify sgfwd.service", r.returncode == 0 and not r.stderr.strip(),
           f"exit {r.returncode}: {r.stdout}{r.stderr}")
    for key in ("Type=notify", "ExecReload=", "Restart=on-failure", "WatchdogSec=30s"):
        expect(f"the unit has {key}", "\n" + key in text)

# 2. The man pages.
pages = sorted(glob.glob(os.path.join(SOURCE, "man", "*.[1-8]")))
expect("man pages sgfw-bench.1, sgfw-policy.5, sgfwctl.8, sgfwd.8",
       sorted(os.path.basename(p) for p in pages) == ["sgfw-bench.1", "sgfw-policy.5", "sgfwctl.8", "sgfwd.8"], pages)
env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
for p in pages:
    name = os.path.basename(p)
    r = subprocess.run(["groff", "-man", "-ww", "-z", p], capture_output=True, text=True, timeout=60)
    expect(f"groff -man -ww {name}", r.returncode == 0 and not r.stderr.strip(), r.stderr)
    r = subprocess.run(["man", "--warnings", "-l", p], capture_output=True, text=True, timeout=60, env=env)
    expect(f"man -l {name}", r.returncode == 0 and not r.stderr.strip() and "NAME" in r.stdout, r.stderr)

# 3. The files the package takes from the tree.
for listing in ("sgfw.install", "sgfw.manpages"):
    for line in open(os.path.join(SOURCE, "debian", listing)):
        src = line.split()[0] if line.strip() else None
        if src:
            expect(f"debian/{listing}: {src} exists", os.path.exists(os.path.join(SOURCE, src)))

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
