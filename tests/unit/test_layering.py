#!/usr/bin/env python3
"""Layering (docs/design/architecture.md): every module's `#include "module/..."` and
meson `dependencies:` edges, and its external headers, must be allowed by the table in
that page; every included module must be declared in the module's own meson
dependencies; data-plane modules must build with -fno-exceptions. Exit 0 or 1 with
every violation listed. Run by the `unit` suite; `--root DIR` checks another tree."""
import argparse
import os
import re
import sys

EXTERNAL_HEADERS = {  # include prefix -> the external name the table uses
    "rte_": "dpdk", "yaml-cpp/": "yaml", "nlohmann/": "json", "openssl/": "openssl",
    "systemd/": "systemd", "httplib.h": "httplib", "grpcpp/": "grpc", "google/protobuf/": "protobuf",
}
EXTERNAL_DEPS = {"dpdk_dep": "dpdk", "yaml_dep": "yaml", "json_dep": "json", "crypto_dep": "openssl",
                 "threads_dep": "threads", "systemd_dep": "systemd", "httplib_dep": "httplib",
                 "grpcpp_dep": "grpc", "protobuf_dep": "protobuf"}


def read_table(root):
    text = open(os.path.join(root, "docs", "design", "architecture.md")).read()
    m = re.search(r"<!-- layering:begin -->(.*?)<!-- layering:end -->", text, re.S)
    if not m:
        raise SystemExit("layering: no table between layering:begin/end in docs/design/architecture.md")
    table = {}
    for line in m.group(1).strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5:
            raise SystemExit(f"layering: bad table row: {line}")
        name, _, uses, external, data_plane = cells
        split = lambda s: {x.strip() for x in s.split(",") if x.strip()}
        table[name] = {"uses": split(uses), "external": split(external), "data_plane": data_plane == "yes"}
    return table


def module_files(root, module):
    d = os.path.join(root, "lib", module)
    for f in sorted(os.listdir(d)):
        if f.endswith((".hpp", ".cpp", ".h")):
            yield os.path.join(d, f)


def check(root):
    table = read_table(root)
    problems = []
    lib = os.path.join(root, "lib")
    modules = sorted(m for m in os.listdir(lib) if os.path.isdir(os.path.join(lib, m)))
    for m in modules:
        if m not in table:
            problems.append(f"lib/{m}: a module the table does not list")
    for m in modules:
        if m not in table:
            continue
        row = table[m]
        allowed = row["uses"] | {m}
        meson = open(os.path.join(lib, m, "meson.build")).read()
        # meson: the dependencies lists of this module's static_library() calls
        declared, declared_ext = set(), set()
        for deps in re.findall(r"dependencies\s*:\s*\[([^\]]*)\]", meson):
            for d in re.findall(r"[a-z_]+_dep", deps):
                if d in EXTERNAL_DEPS:
                    declared_ext.add(EXTERNAL_DEPS[d])
                elif d == "bench_gen_dep":
                    declared.add("bench")
                else:
                    declared.add(d[:-4])
        for d in sorted(declared - allowed):
            problems.append(f"lib/{m}/meson.build: depends on '{d}', which the table does not allow")
        for d in sorted(declared_ext - row["external"]):
            problems.append(f"lib/{m}/meson.build: depends on {d}, which the table does not allow")
        if row["data_plane"] and "noexcept_args" not in meson:
            problems.append(f"lib/{m}/meson.build: a data-plane module built with exceptions (add noexcept_args)")
        included = set()
        for path in module_files(root, m):
            rel = os.path.relpath(path, root)
            for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                im = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
                if im:
                    dep = im.group(1)
                    included.add(dep)
                    if dep not in allowed:
                        problems.append(f"{rel}:{n}: includes {dep}/..., which the table does not allow for {m}")
                em = re.match(r"\s*#\s*include\s+<([^>]+)>", line)
                if em:
                    for prefix, name in EXTERNAL_HEADERS.items():
                        if em.group(1).startswith(prefix) and name not in row["external"]:
                            problems.append(f"{rel}:{n}: includes <{em.group(1)}> ({name}), which the table "
                                            f"does not allow for {m}")
        for dep in sorted(included - declared - {m}):
            if dep in allowed:
                problems.append(f"lib/{m}/meson.build: includes {dep}/... but does not declare {dep}_dep")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.environ.get("SGFW_SOURCE_DIR") or
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args = ap.parse_args()
    problems = check(os.path.abspath(args.root))
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
