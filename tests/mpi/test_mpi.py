#!/usr/bin/env python3
"""`archetype` under mpirun gives the bytes of one process (ctest label mpi).

    test_mpi.py ARCHETYPE MPIRUN [CASE ...]

For 1 to 4 processes on one machine (--oversubscribe), every output that
is not a timing or the "distributed" key of summary.json must be
byte-identical to the single-process run: the reference data, 300,001
generated rows with 3 features (CSV and .npy), a CSV with quoted fields,
line breaks inside quotes and CRLF, a fit with empty-cluster relocation,
predict, the figure data, the exact silhouette, and sample weights
(--weight-column: run, predict and relocation).  Then the faults: a bad row in one rank's
share (one message, the one-process message, exit 2, nothing left in
--out), a rank killed mid-run (the job ends, no output, no staging
folder), more processes than rows and stdin as the input (exit 2).  Each case is a function
below; without CASE arguments all run.  Exit 0 when all pass.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ARCHETYPE, MPIRUN = sys.argv[1], sys.argv[2]
ENV = dict(os.environ,
           # mpirun refuses root without these (containers, CI): see README.
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           # More ranks than cores: ranks waiting in a collective yield the
           # core instead of spinning; one OpenMP thread each.
           OMPI_MCA_mpi_yield_when_idle="1", OMPI_MCA_btl_vader_single_copy_mechanism="none",
           OMP_NUM_THREADS="1",
           # The figure data without drawing (scripts/figures.py is slow here).
           ARCHETYPE_SCRIPTS_DIR="/nonexistent")
WORK = tempfile.mkdtemp(prefix="archetype-mpi-")
FAILURES = []


def run(args, ranks=0, env=None, expect=0):
    """archetype ARGS, alone (ranks 0) or under mpirun -np ranks; returns (rc, stderr)."""
    cmd = [ARCHETYPE] + args if ranks == 0 else [MPIRUN, "--oversubscribe", "-np", str(ranks), ARCHETYPE] + args
    p = subprocess.run(cmd, cwd=WORK, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=300)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"{' '.join(cmd)}: exit {p.returncode}, expected {expect}\n{p.stderr}")
    return p.returncode, p.stderr


def check(ok, what):
    if not ok:
        FAILURES.append(what)
        print("  FAIL:", what)


def summary(d):
    s = json.load(open(os.path.join(d, "summary.json")))
    dist = s.pop("distributed", None)
    s.pop("timings_ms", None)
    return s, dist


def same_outputs(a, b, ranks):
    """Every file of b equals a's (summary.json but its timings and distributed key)."""
    a, b = os.path.join(WORK, a), os.path.join(WORK, b)
    names = sorted(set(os.listdir(a)) | set(os.listdir(b)))
    check(names == sorted(os.listdir(a)), f"{b}: other files than {a}: {names}")
    for name in names:
        if os.path.isdir(os.path.join(a, name)):
            continue
        if name == "summary.json":
            (sa, da), (sb, db) = summary(a), summary(b)
            check(sa == sb, f"{b}/summary.json differs from one process's")
            check(da is None, f"{a}/summary.json: a 'distributed' key for one process")
            if ranks > 1:
                check(db is not None and db["ranks"] == ranks and db["hosts"] and db["communication_seconds"] >= 0
                      and db["sums_over"] in ("mpi", "nccl"),
                      f"{b}/summary.json: distributed = {db}")
            else:
                check(db is None, f"{b}/summary.json: 'distributed' with one process")
            continue
        with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
            check(fa.read() == fb.read(), f"{b}/{name} differs from one process's")


def identical(name, args, ranks=(1, 2, 3, 4)):
    run(args + ["--out", name + "-1p"])
    for n in ranks:
        t = time.time()
        run(args + ["--out", f"{name}-{n}"], ranks=n)
        same_outputs(name + "-1p", f"{name}-{n}", n)
        print(f"  {name}: {n} processes identical ({time.time() - t:.1f} s)")


def case_reference():
    identical("reference", ["run", "--no-figures", "--quiet"])


def case_generated():
    run(["generate", "--rows", "300001", "--seed", "11", "--features", "3", "--out", "gen.csv", "--quiet"])
    # A small sweep and a sampled silhouette keep this quick; the rows do not divide by 2, 3 or 4.
    identical("gen", ["run", "gen.csv", "--k-min", "2", "--k-max", "3", "--k", "3", "--n-init", "1",
                      "--silhouette-sample", "2000", "--no-figures", "--quiet"], ranks=(2, 3, 4))


def case_npy_figures():
    run(["generate", "--rows", "300001", "--seed", "12", "--features", "3", "--out", "gen.npy", "--quiet"])
    # Figure data above 200,000 rows: the 2-D histogram of the PCA scores.
    identical("npy", ["fit", "gen.npy", "--k", "4", "--n-init", "2", "--silhouette-sample", "1500", "--quiet"],
              ranks=(3,))


def case_quoted():
    random.seed(5)
    lines = ['id,"name, quoted",x,"y"\r\n']
    for i in range(3000):
        name = f'"creator {i}, with ""quotes""\nand a line break"' if i % 7 == 0 else f"plain{i}"
        lines.append(f'{i},{name},{random.gauss(0, 1) * 10 + (i % 3) * 20:.5f},"{random.gauss(0, 1) * 5 + (i % 3) * 7:.5f}"\r\n')
    with open(os.path.join(WORK, "quoted.csv"), "w", newline="") as f:
        f.write("".join(lines))
    # Figure data (points, silhouettes), labels with ids and the input columns.
    identical("quoted", ["run", "quoted.csv", "--k-min", "2", "--k-max", "4", "--k", "3", "--n-init", "2",
                         "--keep-columns", "--quiet"])
    identical("predict", ["predict", "quoted.csv", "--model", "quoted-1p/model.json", "--quiet"], ranks=(2, 4))


def case_exact_silhouette():
    # --silhouette exact: every rank's rows reach every rank in pieces, in
    # row order; 6,001 rows do not divide by 2 or 3, so the chunks of 128
    # of each cluster's rows straddle pieces and ranks.
    run(["generate", "--rows", "6001", "--seed", "13", "--features", "5", "--out", "exact.npy", "--quiet"])
    identical("exact", ["fit", "exact.npy", "--k", "6", "--n-init", "2", "--silhouette", "exact", "--quiet"],
              ranks=(2, 3))


def write_dups():
    """Three values repeated, a few rows off them."""
    with open(os.path.join(WORK, "dups.csv"), "w") as f:
        f.write("a,b\n")
        for i in range(3000):
            f.write(f"{i % 3},{(i % 3) * (i % 3) + (0.25 if i % 250 == 0 else 0)}\n")


def case_relocation():
    # k = 8 on dups.csv: clusters empty during Lloyd and are refilled from
    # the farthest rows (found across ranks).
    write_dups()
    identical("dups", ["fit", "dups.csv", "--k", "8", "--n-init", "4", "--max-iter", "5", "--no-figures", "--quiet"])


def case_weighted():
    # --weight-column under a split: the weighted scaler, weights' total and
    # zero rows (summary.json), weighted k-means++ (first centres drawn over
    # the total weight, rank 0's first 700 rows weighing nothing), means,
    # inertia and tol, and relocation of empty clusters by rows of positive
    # weight.  0.1 has no exact power-of-two grid: the 24-bit grid, the same
    # on every rank.
    random.seed(9)
    with open(os.path.join(WORK, "weighted.csv"), "w") as f:
        f.write("id,x,w,y\n")
        for i in range(3001):
            w = 0 if i < 700 else 0.1 if i % 5 == 0 else 1 + i % 4
            f.write(f"u{i},{random.gauss(0, 1) * 3 + (i % 3) * 9:.4f},{w},{random.gauss(0, 1) + (i % 3) * 4:.4f}\n")
    with open(os.path.join(WORK, "wdups.csv"), "w") as f:
        f.write("a,b,w\n")
        for i in range(3000):
            f.write(f"{i % 3},{(i % 3) * (i % 3) + (0.25 if i % 250 == 0 else 0)},{0 if i % 7 == 0 else 1 + i % 3}\n")
    identical("weighted", ["run", "weighted.csv", "--weight-column", "w", "--k-min", "2", "--k-max", "4", "--k", "3",
                           "--n-init", "2", "--keep-columns", "--quiet"], ranks=(1, 2, 3))
    identical("wpredict", ["predict", "weighted.csv", "--weight-column", "w", "--model", "weighted-1p/model.json",
                           "--quiet"], ranks=(3,))
    identical("wdups", ["fit", "wdups.csv", "--weight-column", "w", "--k", "8", "--n-init", "4", "--max-iter", "5",
                        "--no-figures", "--quiet"], ranks=(2, 3))
    s = json.load(open(os.path.join(WORK, "weighted-3", "summary.json")))
    w = s["input"]["sample_weight"]
    total = sum(0 if i < 700 else 0.1 if i % 5 == 0 else 1 + i % 4 for i in range(3001))
    check(w["column"] == "w" and w["zero_rows"] == 700 and abs(w["total"] - total) < 1e-6,
          f"weighted: summary.json sample_weight = {w}, expected 700 zero rows and a total of {total}")


def case_faults():
    with open(os.path.join(WORK, "bad.csv"), "w") as f:
        f.write("a,b\n")
        for i in range(2000):
            f.write(f"{i % 17},{'x7' if i == 1800 else (i * 7) % 23}\n")
    _, alone = run(["fit", "bad.csv", "--out", "bad-1p", "--no-figures"], expect=2)
    rc, err = run(["fit", "bad.csv", "--out", "bad-3", "--no-figures"], ranks=3, expect=None)
    ours = [line for line in err.splitlines() if line.startswith("archetype")]
    check(rc == 2, f"a bad row in one rank's share: exit {rc}, expected 2")
    check(len(ours) == 1 and ours[0].endswith(alone.strip().split(": ", 2)[2]) and "process 2 of 3" in ours[0],
          f"a bad row: one message naming the rank and the one-process line, got {ours} (alone: {alone.strip()})")
    check(not os.path.exists(os.path.join(WORK, "bad-3")), "a bad row: --out left behind")

    # Rank 1 killed (SIGKILL) at its 40th collective, mid-run.
    write_dups()
    env = dict(ENV, ARCHETYPE_DIST_FAULT="kill:1:40")
    rc, err = run(["fit", "dups.csv", "--k", "3", "--out", "killed", "--no-figures", "--quiet"], ranks=3, env=env,
                  expect=None)
    check(rc != 0, "a killed rank: the job ended with exit 0")
    check("rank 1" in err and "signal 9" in err, f"a killed rank: mpirun names it and the signal: {err}")
    check(not os.path.exists(os.path.join(WORK, "killed")), "a killed rank: --out (or its staging folder) left behind")

    # A stream cannot be cut into byte ranges: refused, once, exit 2.
    rc, err = run(["fit", "-", "--k", "2", "--out", "stdin-2"], ranks=2, expect=None)
    ours = [line for line in err.splitlines() if line.startswith("archetype")]
    check(rc == 2 and len(ours) == 1 and "stdin: a job split across 2 processes reads a regular file" in ours[0],
          f"stdin under mpirun: exit {rc}: {err}")

    with open(os.path.join(WORK, "three.csv"), "w") as f:
        f.write("a,b\n1,2\n3,4\n5,7\n")
    rc, err = run(["fit", "three.csv", "--k", "2", "--out", "three"], ranks=4, expect=None)
    check(rc == 2 and "4 processes for 3 data rows" in err, f"more ranks than rows: exit {rc}: {err}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    chosen = sys.argv[3:] or list(CASES)
    try:
        for name in chosen:
            t = time.time()
            print(f"{name} ...", flush=True)
            CASES[name]()
            print(f"{name}: {time.time() - t:.1f} s", flush=True)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("all identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
