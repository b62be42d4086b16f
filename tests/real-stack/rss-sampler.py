#!/usr/bin/env python3
"""Peak memory of a real-stack run: rss-sampler.py RUN_DIR ROOT_PID OUT

Every 2 s, sums the resident set size (VmRSS) of the run's processes: ROOT_PID and its
descendants, plus every process whose command line names RUN_DIR (kwokctl starts etcd, the API
server, the controller manager, the scheduler and kwok detached from the run, with their files
in RUN_DIR). Writes "<peak MiB> <processes at the peak> <samples>" to OUT after each sample,
and stops when ROOT_PID is gone. Pages shared between processes (the JVMs' libraries, for
example) count once per process, so the sum is an upper bound.
"""
import os
import sys
import time

run_dir, root, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
run_dir_b = run_dir.encode()


def sample():
    parent, rss, named = {}, {}, set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        try:
            with open(f"/proc/{d}/status") as f:
                st = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        kb = 0
        for line in st.splitlines():
            if line.startswith("PPid:"):
                parent[pid] = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                kb = int(line.split()[1])
        rss[pid] = kb
        if run_dir_b in cmd:
            named.add(pid)
    mine = set()
    for pid in rss:
        p, seen = pid, 0
        while p and seen < 64:
            if p == root:
                mine.add(pid)
                break
            p, seen = parent.get(p, 0), seen + 1
    mine |= named
    return sum(rss.get(p, 0) for p in mine), len(mine)


peak, peak_n, n = 0, 0, 0
while os.path.exists(f"/proc/{root}"):
    kb, count = sample()
    n += 1
    if kb > peak:
        peak, peak_n = kb, count
    with open(out + ".tmp", "w") as f:
        f.write(f"{peak // 1024} {peak_n} {n}\n")
    os.replace(out + ".tmp", out)
    time.sleep(2)
