#!/usr/bin/env python3
"""The NCCL path on emulated GPUs (ARCHETYPE_CUDA=EMU with MPI): two ranks,
each on its own emulated device, sums over tests/emu/fake_nccl.cpp (a
stand-in libnccl.so.2); every output byte-identical to one process on one
emulated GPU, and summary.json's distributed.sums_over says "nccl".

  nccl_parity.py ARCHETYPE MPIEXEC FAKE_NCCL_DIR

Then the same with ARCHETYPE_NCCL=0 ("mpi"), and two ranks on one device
(the vote sends the sums over MPI, with a notice).  Faults
(ARCHETYPE_FAKE_NCCL_FAIL): NCCL failing to start on rank 1, and rank 1's
fifth all-reduce failing mid-run, each end the job with exit 2, a message
naming process 1 and NCCL, and no output folder.
"""
import json
import os
import subprocess
import sys
import tempfile

ARCH, MPIEXEC, FAKE = sys.argv[1], sys.argv[2], sys.argv[3]


def run(cmd, env, expect=0):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=900)
    if expect is not None and p.returncode != expect:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def main():
    base = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
            "LD_LIBRARY_PATH": FAKE + ":" + os.environ.get("LD_LIBRARY_PATH", "")}
    with tempfile.TemporaryDirectory() as t:
        data = os.path.join(t, "c.csv")
        run([ARCH, "generate", "--rows", "20011", "--seed", "3", "--features", "4", "--out", data], base)
        fit = ["fit", data, "--k", "9", "--n-init", "3", "--backend", "cuda", "--no-figures", "--quiet"]
        one = os.path.join(t, "one")
        run([ARCH] + fit + ["--out", one], dict(base, CUDA_EMU_DEVICES="1"))

        def two_ranks(env, out, expect=0):
            """fit under mpirun -np 2, `env` (and the fake NCCL's path) passed to both ranks."""
            xs = [a for k in list(env) + ["LD_LIBRARY_PATH"] for a in ("-x", k)]
            return run([MPIEXEC, "--oversubscribe", "--bind-to", "none", "-np", "2"] + xs + [ARCH] + fit +
                       ["--out", out], dict(base, **env), expect)

        cases = [("2 ranks, 2 emulated GPUs", {"CUDA_EMU_DEVICES": "2"}, "nccl"),
                 ("2 ranks, 2 emulated GPUs, ARCHETYPE_NCCL=0", {"CUDA_EMU_DEVICES": "2", "ARCHETYPE_NCCL": "0"},
                  "mpi"),
                 ("2 ranks sharing 1 emulated GPU", {"CUDA_EMU_DEVICES": "1"}, "mpi")]
        for name, env, over in cases:
            out = os.path.join(t, name.replace(" ", "_").replace(",", "").replace("=", ""))
            two_ranks(env, out)
            for f in ["labels.csv", "model.json"]:
                if open(os.path.join(one, f), "rb").read() != open(os.path.join(out, f), "rb").read():
                    sys.exit(f"FAIL {name}: {f} differs from one process")
            s = json.load(open(os.path.join(out, "summary.json")))
            got = s.get("distributed", {}).get("sums_over")
            if got != over or s.get("backend") != "cuda":
                sys.exit(f"FAIL {name}: sums over {got} on {s.get('backend')}, expected {over} on cuda")
            print(f"ok {name}: labels.csv and model.json identical to one process, sums over {got}")

        for spec, says in [("init:1", ("process 1: NCCL: NCCL CommInitRank failed",)),
                           ("allreduce:1:5", ("process 1 of 2 (", "GPU failed: NCCL AllReduce failed"))]:
            out = os.path.join(t, "fault_" + spec.replace(":", "_"))
            p = two_ranks({"CUDA_EMU_DEVICES": "2", "ARCHETYPE_FAKE_NCCL_FAIL": spec}, out, expect=None)
            said = [line for line in p.stderr.splitlines() if line.startswith("archetype: error")]
            named = [line for line in said if all(part in line for part in says)]
            if p.returncode != 2 or not named or os.path.exists(out):
                sys.exit(f"FAIL NCCL fault {spec}: exit {p.returncode}, output left: {os.path.exists(out)}\n"
                         f"{p.stderr[-2000:]}")
            print(f"ok NCCL fault {spec}: exit 2, '{named[0]}', nothing written")


if __name__ == "__main__":
    main()
