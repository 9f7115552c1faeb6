#!/usr/bin/env python3
"""The whole CLI on the CUDA backend (ARCHETYPE_CUDA=EMU: kernels/ on the
CPU emulation) against the CPU backend, on tables that are not the
reference data: every output byte-identical (summary.json: equal but for
the backend, the device and the timings).

  cli_parity.py ARCHETYPE

Cases: a generated CSV with 6 metrics through `run`; a heavy-tailed table
with a text column, an id and integer weights through `fit` (log1p) and
`predict`; a .npy of 60,007 rows x 8 streamed from host memory in
chunks (`fit`, k = 20); the reference sweep of k = 2..10 x 10.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

ARCH = sys.argv[1]
WORK = None  # the run's scratch folder
OUTPUTS = ["sweep.csv", "labels.csv", "model.json", "predictions.csv"]
VOLATILE = {"backend", "device", "timings_ms"}


def run(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([ARCH] + args, capture_output=True, text=True, env=e)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def compare(name, cpu_dir, gpu_dir, expect_device=None):
    same = 0
    for f in OUTPUTS:
        a, b = os.path.join(cpu_dir, f), os.path.join(gpu_dir, f)
        if not os.path.exists(a):
            continue
        if open(a, "rb").read() != open(b, "rb").read():
            sys.exit(f"FAIL {name}: {f} differs between --backend cpu and --backend cuda")
        same += 1
    sa = json.load(open(os.path.join(cpu_dir, "summary.json")))
    sb = json.load(open(os.path.join(gpu_dir, "summary.json")))
    if sb.get("backend") != "cuda":
        sys.exit(f"FAIL {name}: the cuda run used {sb.get('backend')}")
    if expect_device and expect_device not in sb.get("device", ""):
        sys.exit(f"FAIL {name}: the device is '{sb.get('device')}', not '{expect_device}'")
    if strip(sa) != strip(sb):
        sys.exit(f"FAIL {name}: summary.json differs beyond backend, device and timings")
    print(f"ok {name}: {same} output files and summary.json identical")


def both(name, args, env=None, expect_device=None):
    """Runs args on both backends into fresh folders of WORK; returns them."""
    start = time.time()
    t = tempfile.mkdtemp(dir=WORK)
    c, g = os.path.join(t, "cpu"), os.path.join(t, "cuda")
    run(args + ["--backend", "cpu", "--out", c, "--no-figures", "--quiet"])
    run(args + ["--backend", "cuda", "--out", g, "--no-figures", "--quiet"], env)
    compare(name, c, g, expect_device)
    print(f"   ({time.time() - start:.1f} s)")
    return c, g


def main():
    global WORK
    with tempfile.TemporaryDirectory() as t:
        WORK = t
        # 1. generated creators, six metrics, the whole workflow
        gen = os.path.join(t, "gen.csv")
        run(["generate", "--rows", "4001", "--seed", "11", "--features", "6", "--out", gen])
        both("run, generated 4,001 x 6", ["run", gen, "--k", "auto"])

        # 2. heavy tails, a text column, ids and integer weights; then predict
        rng = random.Random(5)
        tab = os.path.join(t, "creators.csv")
        with open(tab, "w") as f:
            f.write("creator_id,niche,followers,views,revenue,weight\n")
            for i in range(6007):
                heavy = rng.random() < 0.002
                f.write(f"c{i},\"{rng.choice(['food', 'tech, gadgets', 'travel'])}\","
                        f"{rng.lognormvariate(8, 1.5) * (50 if heavy else 1):.3f},"
                        f"{rng.lognormvariate(10, 2):.2f},{rng.paretovariate(1.3):.4f},{rng.randint(0, 9)}\n")
        c, g = both("fit, heavy-tailed CSV with weights (log1p)",
                    ["fit", tab, "--k", "7", "--transform", "log1p", "--weight-column", "weight",
                     "--columns", "followers,views,revenue"])
        with tempfile.TemporaryDirectory(dir=WORK) as p:
            pc, pg = os.path.join(p, "cpu"), os.path.join(p, "cuda")
            run(["predict", tab, "--model", os.path.join(c, "model.json"), "--backend", "cpu", "--out", pc, "--quiet"])
            run(["predict", tab, "--model", os.path.join(g, "model.json"), "--backend", "cuda", "--out", pg,
                 "--quiet"])
            for f in sorted(os.listdir(pc)):
                if f.endswith(".csv") and open(os.path.join(pc, f), "rb").read() != open(os.path.join(pg, f), "rb").read():
                    sys.exit(f"FAIL predict: {f} differs")
            print("ok predict: identical")

        # 3. more rows than the emulated device holds: streamed in chunks
        npy = os.path.join(t, "wide.npy")
        rows, cols = 60007, 8
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        with open(npy, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
            buf = bytearray()
            for i in range(rows):
                centre = (i * 7919) % 13
                buf += struct.pack("<8f", *[centre + rng.gauss(0, 0.6) * (1 + j % 3) for j in range(cols)])
            f.write(buf)
        # k = 20: the k-means++ distance cache is on (mean k >= 16)
        both("fit, 60,007 x 8 streamed in chunks of 16,384 rows, k = 20",
             ["fit", npy, "--k", "20", "--n-init", "2", "--max-iter", "25", "--silhouette-sample", "3000"],
             env={"ARCHETYPE_CUDA_CHUNK_ROWS": "16384"}, expect_device="streamed")

        # 4. the reference workflow (k = 2..10 x 10 restarts, the study's k = 5)
        both("run, reference data", ["run"])


if __name__ == "__main__":
    main()
