#!/usr/bin/python3
"""Archetype's CPU backend against scikit-learn on the same kind of data.

Runs, in one invocation and one after the other (never concurrently):

1. one Lloyd iteration, 1,000,000 x 2, k = 5: scikit-learn's
   lloyd_iter_chunked_dense (float64, n_threads = 2, median of 7) against
   BM_CpuLloydPass (steady state: no label changes) and
   BM_CpuLloydPassRelabel (every label changes on every pass);
2. the exact silhouette of 30,000 x 2 rows with 5 labels: silhouette_score
   against BM_CpuSilhouette;
3. a whole fit, KMeans(5, n_init=10, random_state=0).fit on 1,000,000 x 2,
   against BM_KMeansFit (n_init = 10, 2 threads);
4. the whole `archetype run` on a 200,000-row CSV (wall time of the
   process) against the equivalent scikit-learn script run in-process.

The Archetype side of 1-3 is Google Benchmark's real time (median of the
repetitions) from build/bench/archetype_bench; case 4 times build/archetype.
Prints a Markdown table with ratio = scikit-learn time / Archetype time (so
above 1 means Archetype is faster).  Exits non-zero if anything fails to
run; the ratios themselves never fail the script.

Run it with Debian's Python (/usr/bin/python3), which has scikit-learn 1.2.
The environment is left as it is (OPENBLAS_* variables included); the script
only reports what is set and which BLAS library numpy loaded.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

# The five blob centres of bench/bench_data.hpp, noise sd 0.35.
BLOB_CENTERS = np.array([[0.6, 1.5], [1.0, -0.8], [-0.9, 0.8], [-0.1, -0.8], [-1.5, -0.6]])
BLOB_SD = 0.35


def blobs(n, seed=7):
    """The same distribution as bench::blobs(n, 2) (not the same draws:
    that one uses std::mt19937_64), as float64 like StandardScaler's output."""
    rng = np.random.default_rng(seed)
    comp = rng.integers(0, 5, size=n)
    return np.ascontiguousarray(BLOB_CENTERS[comp] + rng.normal(0.0, BLOB_SD, size=(n, 2)))


def write_csv(path, n, seed=11):
    """The reference dataset's layout: id, integer engagement score 5..118,
    monetization rank with 8 decimals 1..107 (the units of
    data/instagram_visits_clustering.csv: mean about 63 and 43, sd about 27
    and 29)."""
    z = blobs(n, seed)
    engagement = np.clip(np.rint(63.3 + 26.6 * z[:, 0]), 5, 118)
    monetization = np.clip(42.8 + 28.8 * z[:, 1], 1, 107)
    data = np.column_stack([np.arange(n), engagement, monetization])
    np.savetxt(path, data, fmt=["%d", "%d", "%.8f"], delimiter=",",
               header="User ID,Instagram visit score,Spending_rank(0 to 100)", comments="")


def progress(message):
    print(f"bench_compare: {message}", file=sys.stderr, flush=True)


def all_times(label, times):
    return f"{label}: " + ", ".join(fmt_s(x) for x in times)


def timed(fn, repeats):
    """Wall times in seconds of `repeats` calls of fn."""
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def fmt_s(seconds):
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3g} ms"


# ---------------------------------------------------------------------------
# Machine and versions
# ---------------------------------------------------------------------------

def lscpu_fields():
    fields = {}
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True,
                              env=dict(os.environ, LC_ALL="C")).stdout
    except (OSError, subprocess.CalledProcessError):
        return fields
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def loaded_libraries(pattern):
    """Shared libraries of this process whose file name matches pattern."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if path.startswith("/") and re.search(pattern, os.path.basename(path)):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(libs)


def cmake_cache(build_dir, key):
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "?"


def print_machine(build_dir, archetype_bin, bench_context):
    import scipy
    import sklearn
    import threadpoolctl
    from threadpoolctl import threadpool_info

    cpu = lscpu_fields()
    print("## Machine")
    print()
    print(f"- CPU: {cpu.get('Model name', platform.processor() or '?')}; "
          f"CPU(s) {cpu.get('CPU(s)', '?')}, threads per core {cpu.get('Thread(s) per core', '?')}, "
          f"cores per socket {cpu.get('Core(s) per socket', '?')}, sockets {cpu.get('Socket(s)', '?')}; "
          f"usable by this process: {len(os.sched_getaffinity(0))}")
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split()[1]
        print(f"- Memory: {int(mem) / 1024 / 1024:.1f} GiB")
    except (OSError, IndexError, ValueError):
        pass
    print(f"- OS: {platform.platform()}")
    print(f"- Load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "OMP_WAIT_POLICY", "MKL_NUM_THREADS"):
        value = os.environ.get(var)
        print(f"- {var}: {'set to ' + repr(value) if value is not None else 'not set'}")
    print()
    print("## Versions")
    print()
    version = subprocess.run([archetype_bin, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"- Archetype: {version or '?'} ({archetype_bin}); build type "
          f"{cmake_cache(build_dir, 'CMAKE_BUILD_TYPE')}, compiler {cmake_cache(build_dir, 'CMAKE_CXX_COMPILER')}")
    if bench_context:
        print(f"- Google Benchmark: library build type {bench_context.get('library_build_type', '?')}, "
              f"num_cpus {bench_context.get('num_cpus', '?')}, mhz_per_cpu {bench_context.get('mhz_per_cpu', '?')}")
    print(f"- Python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, scipy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, threadpoolctl {threadpoolctl.__version__}")
    # The BLAS that numpy and scipy really call (not their Python extension modules).
    blas = [p for p in loaded_libraries(r"blas|lapack|mkl|blis|atlas") if "-packages" not in p]
    print(f"- BLAS/LAPACK libraries loaded by this process: {', '.join(blas) if blas else 'none found'}")
    if blas and not any(re.search(r"openblas|mkl|blis|atlas", os.path.basename(p)) for p in blas):
        print("  - that is the reference (netlib) BLAS: unoptimized and single-threaded. The scikit-learn "
              "figures that go through BLAS (silhouette's pairwise distances, the gemm in each Lloyd chunk) "
              "would be faster with OpenBLAS or MKL, as in the PyPI wheels.")
    for pool in threadpool_info():
        print(f"- threadpoolctl: {pool.get('internal_api')} {pool.get('version') or ''} "
              f"({os.path.basename(pool.get('filepath', '?'))}), {pool.get('num_threads')} threads")
    print()


# ---------------------------------------------------------------------------
# Archetype
# ---------------------------------------------------------------------------

def run_archetype_bench(bench_bin, names, repetitions):
    """Median real time (seconds) and counters of each named benchmark."""
    # A benchmark's name in the filter is matched without the /real_time suffix.
    pattern = "^(" + "|".join(re.escape(n.removesuffix("/real_time")) for n in names) + ")(/real_time)?$"
    cmd = [bench_bin, f"--benchmark_filter={pattern}", "--benchmark_format=json", "--benchmark_min_time=0.5",
           f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{bench_bin} exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    results, cvs = {}, {}
    for b in report.get("benchmarks", []):
        if b.get("error_occurred"):
            raise RuntimeError(f"{b.get('name')}: {b.get('error_message')}")
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv":
            cvs[name] = b["real_time"]
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        results[name] = dict(b, seconds=b["real_time"] * scale[b.get("time_unit", "ns")])
    for name, cv in cvs.items():
        if name in results:
            results[name]["cv"] = cv
    missing = [n for n in names if n not in results]
    if missing:
        raise RuntimeError(f"benchmarks not found in the output of {bench_bin}: {', '.join(missing)}")
    return results, report.get("context", {}), cmd


def run_archetype_cli(archetype_bin, csv_path, sample, repeats, workdir):
    times = []
    cmd = None
    for r in range(repeats):
        out_dir = os.path.join(workdir, f"archetype_out_{r}")
        cmd = [archetype_bin, "run", csv_path, "--silhouette-sample", str(sample), "--out", out_dir, "--quiet", "--no-figures"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return times, cmd


# ---------------------------------------------------------------------------
# scikit-learn
# ---------------------------------------------------------------------------

def sklearn_lloyd(n, repeats):
    from sklearn.cluster._k_means_lloyd import lloyd_iter_chunked_dense
    from threadpoolctl import threadpool_limits

    X = blobs(n)
    sample_weight = np.ones(n)
    centers_old = np.ascontiguousarray(BLOB_CENTERS)
    centers_new = np.zeros_like(centers_old)
    weight_in_clusters = np.zeros(5)
    labels = np.full(n, -1, dtype=np.int32)
    center_shift = np.zeros(5)

    def one():
        lloyd_iter_chunked_dense(X, sample_weight, centers_old, centers_new, weight_in_clusters, labels,
                                 center_shift, 2)

    # As KMeans does around its Lloyd loop: BLAS limited to one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        one()  # warm-up
        return timed(one, repeats)


def sklearn_silhouette(n, repeats):
    from sklearn.metrics import silhouette_score

    X = blobs(n)
    labels = np.arange(n) % 5  # as BM_CpuSilhouette
    return timed(lambda: silhouette_score(X, labels), repeats)


def sklearn_fit(n, repeats):
    from sklearn.cluster import KMeans

    X = blobs(n)
    info = {}

    def one():
        km = KMeans(5, n_init=10, random_state=0).fit(X)
        info["n_iter"] = km.n_iter_
        info["inertia"] = km.inertia_

    return timed(one, repeats), info


def sklearn_sweep(n, repeats):
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    X = blobs(n)

    def one():
        for k in range(2, 11):
            km = KMeans(k, n_init=10, random_state=0).fit(X)
            silhouette_score(X, km.labels_, sample_size=10_000, random_state=0)

    return timed(one, repeats)


def sklearn_run(csv_path, sample, repeats):
    """The sklearn equivalent of `archetype run`: load, standardize, sweep
    k = 2..10 (fit, sampled silhouette, CH, DB), then the silhouette of the
    k = 5 model kept from the sweep (Archetype reuses the sweep's fit too).
    The separate k = 5 refit is timed apart.  Returns (totals, refits)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    totals, refits = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        raw = np.loadtxt(csv_path, delimiter=",", skiprows=1, usecols=(1, 2))
        Z = StandardScaler().fit_transform(raw)
        kept = None
        for k in range(2, 11):
            km = KMeans(k, n_init=10, random_state=0).fit(Z)
            silhouette_score(Z, km.labels_, sample_size=sample, random_state=0)
            calinski_harabasz_score(Z, km.labels_)
            davies_bouldin_score(Z, km.labels_)
            if k == 5:
                kept = km
        silhouette_score(Z, kept.labels_, sample_size=sample, random_state=0)
        totals.append(time.perf_counter() - t)
        t = time.perf_counter()
        KMeans(5, n_init=10, random_state=0).fit(Z)
        refits.append(time.perf_counter() - t)
    return totals, refits


# ---------------------------------------------------------------------------

class SkipCase(Exception):
    """A case left out by --only-run."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build", help="CMake build directory (default: build)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats: a smoke run")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats of the silhouette, fit and run cases (default 3, 1 with --quick)")
    parser.add_argument("--run-rows", type=int, default=None,
                        help="rows of the whole-run case (default 200,000; 20,000 with --quick)")
    parser.add_argument("--run-sample", type=int, default=None,
                        help="silhouette sample size of the whole-run case (default 20,000; 5,000 with --quick)")
    parser.add_argument("--only-run", action="store_true", help="only the whole-run case (no Google Benchmark cases)")
    args = parser.parse_args()

    bench_bin = os.path.join(args.build, "bench", "archetype_bench")
    archetype_bin = os.path.join(args.build, "archetype")
    for path in (bench_bin, archetype_bin):
        if not os.access(path, os.X_OK):
            print(f"bench_compare: {path} not found or not executable (build the targets archetype and "
                  f"archetype_bench first)", file=sys.stderr)
            return 1

    q = args.quick
    n_lloyd = 100_000 if q else 1_000_000
    n_sil = 3_000 if q else 30_000
    n_fit = 100_000 if q else 1_000_000
    n_csv = args.run_rows or (20_000 if q else 200_000)
    sample = args.run_sample or (5_000 if q else 20_000)
    repeats = args.repeats or (1 if q else 3)
    lloyd_repeats = 3 if q else 7
    bench_reps = 1 if q else 3

    names = {
        "lloyd": f"BM_CpuLloydPass/{n_lloyd}/2/real_time",
        "relabel": f"BM_CpuLloydPassRelabel/{n_lloyd}/2/real_time",
        "sil": f"BM_CpuSilhouette/{n_sil}/2/real_time",
        "fit": f"BM_KMeansFit/rows:{n_fit}/n_init:10/threads:2/real_time",
        "sweep": "BM_Sweep/threads:2/real_time",
    }
    failures = []
    rows = []
    notes = []
    raw_times = []
    workdir = tempfile.mkdtemp(prefix="archetype_compare_")
    bench_context = {}
    try:
        # Archetype first (one process), then scikit-learn: nothing overlaps.
        if args.only_run:
            names = {}
        progress("Archetype benchmarks")
        try:
            arch, bench_context, bench_cmd = (run_archetype_bench(bench_bin, list(names.values()), bench_reps)
                                              if names else ({}, {}, []))
        except (OSError, RuntimeError, ValueError) as e:
            failures.append(f"archetype_bench: {e}")
            arch, bench_cmd = {}, []

        def add(case, sk_seconds, arch_key, extra=""):
            if arch_key not in arch:
                rows.append((case, fmt_s(sk_seconds), "failed", "-"))
                return
            a = arch[arch_key]["seconds"]
            rows.append((case + extra, fmt_s(sk_seconds), fmt_s(a), f"{sk_seconds / a:.2f}"))

        # 1. Lloyd iteration.
        progress("scikit-learn Lloyd iteration")
        try:
            if args.only_run:
                raise SkipCase()
            t = sklearn_lloyd(n_lloyd, lloyd_repeats)
            raw_times.append(all_times("scikit-learn Lloyd iteration", t))
            sk = statistics.median(t)
            add(f"Lloyd iteration, {n_lloyd:,} x 2, k = 5, 2 threads: steady state (no label changes)",
                sk, names["lloyd"])
            frac = arch.get(names["relabel"], {}).get("changed_fraction")
            add(f"Lloyd iteration, {n_lloyd:,} x 2, k = 5, 2 threads: relabel (changed fraction "
                f"{frac if frac is None else f'{frac:.2f}'})", sk, names["relabel"])
        except SkipCase:
            pass
        except Exception as e:  # noqa: BLE001 - report any failure and go on
            failures.append(f"scikit-learn Lloyd iteration: {e!r}")

        # 2. Exact silhouette.
        progress("scikit-learn silhouette")
        try:
            if args.only_run:
                raise SkipCase()
            t = sklearn_silhouette(n_sil, repeats)
            raw_times.append(all_times("scikit-learn silhouette", t))
            add(f"Exact silhouette, {n_sil:,} x 2, 5 labels (Archetype 2 threads)", statistics.median(t), names["sil"])
        except SkipCase:
            pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"scikit-learn silhouette: {e!r}")

        # 3. Whole fit.
        progress("scikit-learn KMeans fit")
        try:
            if args.only_run:
                raise SkipCase()
            t, info = sklearn_fit(n_fit, repeats)
            raw_times.append(all_times("scikit-learn fit", t))
            add(f"KMeans fit, {n_fit:,} x 2, k = 5, n_init = 10 (Archetype 2 threads)", statistics.median(t), names["fit"])
            if names["fit"] in arch:
                notes.append(f"Whole fit: scikit-learn n_iter_ of the best run {info['n_iter']}, inertia "
                             f"{info['inertia']:.6g}; Archetype Lloyd iterations summed over the 10 runs "
                             f"{arch[names['fit']].get('lloyd_iters', float('nan')):.0f} (its data are other "
                             f"draws of the same blobs).")
        except SkipCase:
            pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"scikit-learn fit: {e!r}")

        # 3b. The whole sweep (fused in Archetype): k = 2..10, 10 restarts
        # each, silhouette on a 10,000-row sample, 100,000 rows (as BM_Sweep).
        progress("scikit-learn sweep")
        try:
            if args.only_run:
                raise SkipCase()
            t = sklearn_sweep(100_000, 1 if q else 2)
            raw_times.append(all_times("scikit-learn sweep", t))
            add("Sweep k = 2..10, n_init = 10, silhouette sample 10,000, 100,000 x 2 (Archetype 2 threads, fused)",
                statistics.median(t), names["sweep"])
        except SkipCase:
            pass
        except Exception as e:  # noqa: BLE001
            failures.append(f"scikit-learn sweep: {e!r}")

        # 4. Whole run on a CSV.
        progress("whole run: Archetype, then scikit-learn")
        csv_path = os.path.join(workdir, f"creators_{n_csv}.csv")
        try:
            write_csv(csv_path, n_csv)
            size_mb = os.path.getsize(csv_path) / 1e6
            a_times, run_cmd = run_archetype_cli(archetype_bin, csv_path, sample, repeats, workdir)
            sk_totals, sk_refits = sklearn_run(csv_path, sample, repeats)
            raw_times.append(all_times("Archetype run", a_times))
            raw_times.append(all_times("scikit-learn run", sk_totals))
            raw_times.append(all_times("scikit-learn k = 5 refit", sk_refits))
            a = min(a_times)
            sk = min(sk_totals)
            sk_refit = min(x + y for x, y in zip(sk_totals, sk_refits))
            case = f"`archetype run`, {n_csv:,}-row CSV ({size_mb:.1f} MB), k = 2..10, silhouette sample {sample:,}"
            rows.append((case, fmt_s(sk), fmt_s(a), f"{sk / a:.2f}"))
            rows.append((case + ", scikit-learn with a separate k = 5 refit", fmt_s(sk_refit), fmt_s(a),
                         f"{sk_refit / a:.2f}"))
            notes.append("Whole run: best of " + str(repeats) + "; Archetype is the wall time of `"
                         + " ".join(run_cmd).replace(workdir, "TMP") + "` (a separate process: startup, CSV, "
                         "profile, scaling, sweep, personas and output files included); scikit-learn is "
                         "in-process (no interpreter start or import time).")
        except Exception as e:  # noqa: BLE001
            failures.append(f"whole run: {e!r}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"# Archetype vs scikit-learn{' (--quick smoke run: small sizes)' if q else ''}")
    print()
    print_machine(args.build, archetype_bin, bench_context)
    print("## Results")
    print()
    print("ratio = scikit-learn time / Archetype time (above 1: Archetype is faster). Archetype cases 1-3: "
          f"Google Benchmark real time, median of {bench_reps} repetition(s); scikit-learn: median of "
          f"{lloyd_repeats} (Lloyd) or {repeats} (silhouette, fit) calls; whole run: best of {repeats}.")
    print()
    print("| case | scikit-learn | Archetype | ratio |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    spread = [f"{n.split('/real_time')[0]} {arch[n]['cv'] * 100:.1f}%" for n in names.values()
              if n in arch and "cv" in arch[n]]
    if spread:
        notes.insert(0, "Archetype coefficient of variation over the repetitions: " + ", ".join(spread) + ".")
    if bench_cmd:
        notes.insert(0, "Archetype benchmarks: `" + " ".join(
            c if not c.startswith("--benchmark_filter") else f"'{c}'" for c in bench_cmd) + "`")
    for n in notes:
        print(f"- {n}")
    print(f"- Every timing: {'; '.join(raw_times)}.")
    if failures:
        print()
        print("## Failures")
        print()
        for f in failures:
            print(f"- {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
