#!/usr/bin/env python3
"""The docs match the code (issue 16).

1. Commands: every command in a ```sh / ```bash block of README.md and docs/*.md (and
   docs/design/*.md) is either run here or skipped by a stated rule, and each skip is
   printed with its rule. A command runs when every stage of its pipeline is one of:
   `build/app/sgfwctl/sgfwctl` or a bare `sgfwctl` in its offline forms (`check`,
   `explain --policy`), `build/app/sgfwd/sgfwd` or `sgfwd` with `--check`, and
   `printf`, `echo`, `mkdir`, `cp`. Skipped by rule: a command whose comment says
   `needs: ...` (a daemon, root, interfaces), one that builds, installs or runs a
   script (`scripts/...`, `meson ...`), one with an upper-case placeholder (FILE, NS),
   any other program (ip, ethtool, ...). A command that runs must exit 0 (an `explain`
   may exit 1 when its output says deny) and print nothing on stderr.
   Paths: `build/` is the build directory under test, `/tmp/sgfw` a fresh temporary
   directory; commands run in the source directory.
2. Configuration keys: the keys the daemon-config loader accepts (read from the
   MapReader key lists of lib/config/daemon_config.cpp) and the keys documented in the
   tables of docs/configuration.md are the same set."""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

SOURCE = os.path.abspath(os.environ.get("SGFW_SOURCE_DIR", "."))
BUILD = os.path.abspath(os.environ.get("SGFW_BUILD_DIR", os.path.join(SOURCE, "build")))
OFFLINE_PROGRAMS = {"printf", "echo", "mkdir", "cp"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg, flush=True)


# ------------------------------------------------------------------ commands in docs

def code_blocks(path):
    """(first line number, lines) of every sh/bash/shell block."""
    blocks, cur, start, lang = [], None, 0, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"^\s*```(\w*)", line)
            if m:
                if cur is None:
                    lang, cur, start = m.group(1), [], n + 1
                else:
                    if lang in ("sh", "bash", "shell"):
                        blocks.append((start, cur))
                    cur = None
                continue
            if cur is not None:
                cur.append(line.rstrip("\n"))
    return blocks


def split_comment(line):
    """(command, comment): a '#' outside quotes that starts a word begins the comment."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def commands(path):
    """(line number, command, comment) with continuation lines ('|' or '\\') joined."""
    out = []
    for start, lines in code_blocks(path):
        pending, pending_line, comments = "", 0, []
        for i, raw in enumerate(lines):
            cmd, comment = split_comment(raw)
            if not cmd.strip() and not pending:
                continue
            if not pending:
                pending_line = start + i
            if comment:
                comments.append(comment)
            if cmd.endswith("\\"):
                pending += cmd[:-1] + " "
                continue
            if cmd.endswith("|"):
                pending += cmd + " "
                continue
            out.append((pending_line, (pending + cmd).strip(), " ".join(comments)))
            pending, comments = "", []
    return out


def stages(cmd):
    parts, cur, quote = [], "", None
    for c in cmd:
        if quote:
            cur += c
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur += c
        elif c in "|;&":
            if cur.strip():
                parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


def skip_reason(cmd, comment):
    if "needs:" in comment:
        return "needs " + comment.split("needs:", 1)[1].strip().split(";")[0].split("(")[0].strip()
    for st in stages(cmd):
        words = shlex.split(st)
        prog = words[0]
        if prog.startswith("scripts/") or prog in ("meson", "ninja"):
            return "builds, installs or runs a script"
        if any(re.fullmatch(r"[A-Z][A-Z_]+(\[.*)?", w) for w in words[1:]) or "PEER" in st:
            return "has a placeholder"
        if prog in OFFLINE_PROGRAMS:
            continue
        if prog in ("sgfwctl", "build/app/sgfwctl/sgfwctl"):
            rest = [w for w in words[1:] if not w.startswith("--json")]
            if rest and rest[0] == "check":
                continue
            if rest and rest[0] == "explain" and "--policy" in rest:
                continue
            return "needs a running sgfwd (sgfwctl " + (rest[0] if rest else "") + ")"
        if prog in ("sgfwd", "build/app/sgfwd/sgfwd"):
            if "--check" in words:
                continue
            return "runs the daemon"
        return f"runs {prog} (not an offline sgfw command)"
    return None


def localize(cmd, tmp):
    cmd = re.sub(r"(?<![\w/])build/", BUILD + "/", cmd)
    cmd = re.sub(r"(?<![\w/.-])sgfwctl(?=\s)", os.path.join(BUILD, "app", "sgfwctl", "sgfwctl"), cmd)
    cmd = re.sub(r"(?<![\w/.-])sgfwd(?=\s)", os.path.join(BUILD, "app", "sgfwd", "sgfwd"), cmd)
    return cmd.replace("/tmp/sgfw", tmp)


def check_commands():
    docs = [os.path.join(SOURCE, "README.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md"))) + \
        sorted(glob.glob(os.path.join(SOURCE, "docs", "design", "*.md")))
    ran = skipped = 0
    with tempfile.TemporaryDirectory(prefix="sgfw-docs-") as tmp:
        for path in docs:
            rel = os.path.relpath(path, SOURCE)
            for line, cmd, comment in commands(path):
                why = skip_reason(cmd, comment)
                if why:
                    skipped += 1
                    print(f"skip {rel}:{line}: {cmd}  [{why}]", flush=True)
                    continue
                ran += 1
                r = subprocess.run(["bash", "-o", "pipefail", "-c", localize(cmd, tmp)], cwd=SOURCE,
                                   capture_output=True, text=True, timeout=120)
                ok = r.returncode == 0 or (r.returncode == 1 and " explain " in f" {cmd} " and "deny" in r.stdout)
                if not ok or r.stderr.strip():
                    fail(f"{rel}:{line}: {cmd}\n     exit {r.returncode}\n     stdout: {r.stdout.strip()[:500]}\n"
                         f"     stderr: {r.stderr.strip()[:500]}")
                else:
                    print(f"ran  {rel}:{line}: {cmd}", flush=True)
    print(f"{ran} commands run, {skipped} skipped by rule", flush=True)
    if ran < 5:
        fail(f"only {ran} commands ran: the docs lost their offline examples or this test lost its way")


# ------------------------------------------------------------------ configuration keys

PREFIX = {"daemon config": "", "port": "ports[].", "flows": "flows.", "timeouts": "flows.timeouts.",
          "limits": "limits.", "metrics": "metrics.", "logs": "logs.",
          "policy_source": "policy_source.", "policy_source.etcd": "policy_source.etcd."}


def loader_keys():
    src = "".join(open(os.path.join(SOURCE, "lib", "config", f)).read()
                  for f in ("daemon_config.cpp", "policy_source.cpp"))  # policy_source: its own file
    keys = set()
    for head, body in re.findall(r'MapReader\s+\w+\((.*?)\{([^}]*)\}', src, re.S):
        what = re.findall(r'"([^"]+)"', head)[-1]  # the map's name: the last string before the key list
        if what not in PREFIX:
            fail(f"daemon_config.cpp reads a map '{what}' this test does not know: add its prefix to PREFIX")
            continue
        for k in re.findall(r'"([^"]+)"', body):
            keys.add(PREFIX[what] + k)
    if not {"ports", "flows", "ports[].device", "flows.timeouts.tcp_syn", "limits.vms"} <= keys:
        fail(f"could not read the loader's keys from daemon_config.cpp (got {sorted(keys)}): "
             "the loader changed shape; update loader_keys()")
    return keys


def documented_keys():
    path = os.path.join(SOURCE, "docs", "configuration.md")
    if not os.path.exists(path):
        fail("docs/configuration.md does not exist: the daemon configuration has no reference")
        return set()
    text = open(path).read()
    text = text.split("## Environment")[0]
    keys = set()
    for m in re.finditer(r"^\|\s*`([a-z_\[\]\.]+)`\s*\|", text, re.M):
        keys.add(m.group(1))
    return keys


def check_keys():
    loader, docs = loader_keys(), documented_keys()
    for k in sorted(loader - docs):
        fail(f"configuration key '{k}' is accepted by the loader but not documented in docs/configuration.md")
    for k in sorted(docs - loader):
        fail(f"docs/configuration.md documents '{k}', which the loader does not accept")
    print(f"{len(loader)} configuration keys, {len(loader & docs)} documented", flush=True)


check_commands()
check_keys()
print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
