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

Grid mode (--grid) instead measures the whole `archetype fit FILE.npy --k K
--n-init N --threads 2 --backend cpu --no-figures --quiet --out TMP --force`
(wall time of the process; inertia from TMP/summary.json model.inertia, in
standardized units) against scikit-learn 1.2.1 on the same .npy: np.load
(float32), StandardScaler().fit_transform (kept float32), KMeans(K,
n_init=N, algorithm="lloyd", random_state=0, tol=1e-4, max_iter=300).fit,
timed from the load to the end of the fit in a worker subprocess limited to
the same threads (OMP/OPENBLAS/MKL_NUM_THREADS and threadpoolctl), one side
after the other.  The grid is d in {2, 4, ..., 256} x k in {5, 20, 100, 500}
(--grid-d, --grid-k) on two data kinds (--grid-data): seeded Gaussian blobs,
as many as k, and a heavy-tailed variant (the blobs exponentiated:
lognormal-like features, plus 0.1% of the rows x100 outliers), written as
float32 C-order .npy.  Rows per point: about --grid-seconds (default 3) of
scikit-learn, from one small probe fit per point scaled linearly in rows x
n_init, then one check fit at those rows and one rescale when it is off by
more than a third (the rule is in calibrate()); at least 20 k rows; at most what keeps
the .npy under --grid-max-mb (400).  --grid-n-init auto (the default) takes
10, 3 or 1 restarts, the most that still leave 20 k rows.  --grid-report runs
the five fixed shapes of the original report, --grid-quick three tiny shapes
(a smoke test).  A point passes with ratio >= 3 and an inertia at most 0.2%
above scikit-learn's; the Markdown table is printed, and with --json-out
written with the raw numbers as JSON.  Failing points never fail the script,
only errors do.

Run it with Debian's Python (/usr/bin/python3), which has scikit-learn 1.2.
The environment is left as it is (OPENBLAS_* variables included); the script
only reports what is set and which BLAS library numpy loaded.
"""

import argparse
import json
import os
import platform
import re
import shlex
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


def machine_lines(build_dir, archetype_bin, bench_context):
    """The Markdown "Machine" and "Versions" sections, as a list of lines."""
    import scipy
    import sklearn
    import threadpoolctl
    from threadpoolctl import threadpool_info

    cpu = lscpu_fields()
    lines = []
    add = lines.append
    add("## Machine")
    add("")
    add(f"- CPU: {cpu.get('Model name', platform.processor() or '?')}; "
          f"CPU(s) {cpu.get('CPU(s)', '?')}, threads per core {cpu.get('Thread(s) per core', '?')}, "
          f"cores per socket {cpu.get('Core(s) per socket', '?')}, sockets {cpu.get('Socket(s)', '?')}; "
          f"usable by this process: {len(os.sched_getaffinity(0))}")
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split()[1]
        add(f"- Memory: {int(mem) / 1024 / 1024:.1f} GiB")
    except (OSError, IndexError, ValueError):
        pass
    add(f"- OS: {platform.platform()}")
    add(f"- Load average at the end (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "OMP_WAIT_POLICY", "MKL_NUM_THREADS"):
        value = os.environ.get(var)
        add(f"- {var}: {'set to ' + repr(value) if value is not None else 'not set'}")
    add("")
    add("## Versions")
    add("")
    version = subprocess.run([archetype_bin, "--version"], capture_output=True, text=True).stdout.strip()
    add(f"- Archetype: {version or '?'} ({archetype_bin}); build type "
          f"{cmake_cache(build_dir, 'CMAKE_BUILD_TYPE')}, compiler {cmake_cache(build_dir, 'CMAKE_CXX_COMPILER')}")
    if bench_context:
        add(f"- Google Benchmark: library build type {bench_context.get('library_build_type', '?')}, "
              f"num_cpus {bench_context.get('num_cpus', '?')}, mhz_per_cpu {bench_context.get('mhz_per_cpu', '?')}")
    add(f"- Python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, scipy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, threadpoolctl {threadpoolctl.__version__}")
    # The BLAS that numpy and scipy really call (not their Python extension modules).
    blas = [p for p in loaded_libraries(r"blas|lapack|mkl|blis|atlas") if "-packages" not in p]
    add(f"- BLAS/LAPACK libraries loaded by this process: {', '.join(blas) if blas else 'none found'}")
    if blas and not any(re.search(r"openblas|mkl|blis|atlas", os.path.basename(p)) for p in blas):
        add("  - that is the reference (netlib) BLAS: unoptimized and single-threaded. The scikit-learn "
              "figures that go through BLAS (silhouette's pairwise distances, the gemm in each Lloyd chunk) "
              "would be faster with OpenBLAS or MKL, as in the PyPI wheels.")
    for pool in threadpool_info():
        add(f"- threadpoolctl: {pool.get('internal_api')} {pool.get('version') or ''} "
              f"({os.path.basename(pool.get('filepath', '?'))}), {pool.get('num_threads')} threads")
    add("")
    return lines


def print_machine(build_dir, archetype_bin, bench_context):
    for line in machine_lines(build_dir, archetype_bin, bench_context):
        print(line)


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


def timed_process(cmd):
    """Wall time in seconds of one run of cmd (a separate process: start-up and
    output files included); raises RuntimeError if it fails."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return seconds


def run_archetype_cli(archetype_bin, csv_path, sample, repeats, workdir):
    times = []
    cmd = None
    for r in range(repeats):
        out_dir = os.path.join(workdir, f"archetype_out_{r}")
        cmd = [archetype_bin, "run", csv_path, "--silhouette-sample", str(sample), "--out", out_dir, "--quiet", "--no-figures"]
        times.append(timed_process(cmd))
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
# Grid: the whole `archetype fit` from .npy against scikit-learn (--grid)
# ---------------------------------------------------------------------------

GRID_D = (2, 4, 8, 16, 32, 64, 128, 256)
GRID_K = (5, 20, 100, 500)
GRID_KINDS = ("blobs", "heavy")
GRID_SEED = 2024
# Blob centres are spread so that the median distance from a centre to its
# nearest other centre is this many noise standard deviations: well separated,
# but neighbouring blobs overlap a bit (4 sd apart, about 2% of a blob's rows
# lie nearer the neighbour's centre).
BLOB_SEPARATION = 4.0
HEAVY_OUTLIER_FRACTION = 0.001
HEAVY_OUTLIER_FACTOR = 100.0
GEN_CHUNK_ROWS = 1 << 18

# (rows, d, k, n_init, kind): the shapes of the original report.
REPORT_SHAPES = (
    (1_000_000, 2, 5, 10, "blobs"),
    (200_000, 16, 8, 10, "blobs"),
    (200_000, 4, 6, 10, "heavy"),
    (100_000, 8, 100, 1, "blobs"),
    (100_000, 128, 20, 3, "blobs"),
)
# --grid-quick: a smoke test, about a second a point.
QUICK_SHAPES = (
    (50_000, 2, 5, 3, "blobs"),
    (5_000, 16, 20, 2, "heavy"),
    (2_000, 32, 50, 1, "blobs"),
)


def mixture_params(d, k, seed):
    """Centres of a k-blob mixture in d dimensions (noise sd 1), and the
    per-feature scale and offset that put the blob features in unequal units
    (StandardScaler, and Archetype's own scaling, undo them)."""
    rng = np.random.default_rng([seed, d, k])
    centres = rng.normal(size=(k, d))
    if k > 1:
        sq = (centres * centres).sum(1)
        dist2 = sq[:, None] + sq[None, :] - 2.0 * centres @ centres.T
        np.fill_diagonal(dist2, np.inf)
        nearest = np.sqrt(np.maximum(dist2.min(1), 0.0))
        centres *= BLOB_SEPARATION / np.median(nearest)
    scale = 10.0 ** rng.uniform(-1.0, 2.0, size=d)
    offset = rng.uniform(-100.0, 100.0, size=d)
    return centres, scale, offset


def fill_mixture(out, d, k, kind, seed):
    """Fill out (n x d, float32, e.g. a memmapped .npy) with seeded draws,
    chunk by chunk (the same rows for any chunk size of the caller: each
    GEN_CHUNK_ROWS chunk has its own generator).

    blobs: as many Gaussian blobs as k, equal weights, noise sd 1, centres
      from mixture_params; each feature then scaled and offset.
    heavy: the same mixture standardized per feature (the mixture's own
      mean and sd) and exponentiated: lognormal-like features (skewed, heavy
      right tail) that keep the blob structure in log space; then 0.1% of the
      rows (seeded, exactly ceil(n / 1000)) are outliers: the whole row times
      100."""
    n = out.shape[0]
    centres, scale, offset = mixture_params(d, k, seed)
    if kind == "heavy":
        mu = centres.mean(0)
        sd = np.sqrt(centres.var(0) + 1.0)
        outliers = np.sort(np.random.default_rng([seed, d, k, n]).choice(
            n, size=int(np.ceil(n * HEAVY_OUTLIER_FRACTION)), replace=False))
    elif kind != "blobs":
        raise ValueError(f"unknown data kind {kind!r} (expected blobs or heavy)")
    for c, a in enumerate(range(0, n, GEN_CHUNK_ROWS)):
        b = min(n, a + GEN_CHUNK_ROWS)
        rng = np.random.default_rng([seed, d, k, c])
        z = centres[rng.integers(0, k, size=b - a)]
        z += rng.standard_normal(size=(b - a, d))
        if kind == "blobs":
            z *= scale
            z += offset
        else:
            z -= mu
            z /= sd
            np.exp(z, out=z)
            mine = outliers[(outliers >= a) & (outliers < b)] - a
            z[mine] *= HEAVY_OUTLIER_FACTOR
        out[a:b] = z


# --grid-inertia-seeds: Archetype's extra seeds are 42 + this x s, so that
# their restarts (seed + r, r < n_init) never overlap.
GRID_EXTRA_SEED_STEP = 1000


def write_mixture_npy(path, n, d, k, kind, seed=GRID_SEED):
    """numpy.save layout: float32, C order (written through a memmap, so the
    peak memory is one chunk, not the whole matrix)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    fill_mixture(out, d, k, kind, seed)
    out.flush()
    del out


def sklearn_kmeans_fit(X, k, n_init, seed=0):
    """scikit-learn's side of a grid point after loading: StandardScaler (kept
    float32) and KMeans(lloyd).  Returns (inertia, n_iter_ of the best run)."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    Z = StandardScaler().fit_transform(X).astype(np.float32, copy=False)
    km = KMeans(n_clusters=k, n_init=n_init, algorithm="lloyd", random_state=seed, tol=1e-4, max_iter=300).fit(Z)
    return float(km.inertia_), int(km.n_iter_)


def sk_worker(threads):
    """--sk-worker: the scikit-learn side of the grid, in its own process
    (OMP/OpenBLAS/MKL_NUM_THREADS set by the parent before start, and
    threadpoolctl's limit when available).  Reads one JSON job a line on
    stdin, answers one JSON line on stdout; the first line out describes the
    thread pools."""
    import importlib

    importlib.import_module("sklearn.cluster")  # loads OpenMP and BLAS, so that the limits reach them
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        threadpool_limits(limits=threads)  # for the rest of the process (never restored)
        pools = [f"{p.get('internal_api')} {p.get('version') or ''} ({os.path.basename(p.get('filepath', '?'))}), "
                 f"{p.get('num_threads')} threads" for p in threadpool_info()]
    except ImportError:
        pools = ["threadpoolctl not available: thread counts from the environment only"]
    print(json.dumps({"pools": pools}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            if job["op"] == "fit":
                # Load to fit end, as the Archetype command does it.
                t = time.perf_counter()
                X = np.load(job["npy"])
                if X.dtype != np.float32:
                    raise ValueError(f"{job['npy']}: expected float32, found {X.dtype}")
                inertia, n_iter = sklearn_kmeans_fit(X, job["k"], job["n_init"], job.get("seed", 0))
                answer = {"seconds": time.perf_counter() - t, "inertia": inertia, "n_iter": n_iter}
            elif job["op"] == "probe":
                # Data of the same kind, generated in memory: scaling and fit only.
                X = np.empty((job["rows"], job["d"]), dtype=np.float32)
                fill_mixture(X, job["d"], job["k"], job["kind"], GRID_SEED)
                t = time.perf_counter()
                inertia, n_iter = sklearn_kmeans_fit(X, job["k"], job["n_init"])
                answer = {"seconds": time.perf_counter() - t, "n_iter": n_iter}
            else:
                raise ValueError(f"unknown op {job['op']!r}")
            del X
        except Exception as e:  # noqa: BLE001 - reported to the parent, which records the failure
            answer = {"error": repr(e)}
        print(json.dumps(answer), flush=True)
    return 0


class SkWorker:
    """The --sk-worker subprocess, started once for the whole grid (import
    time is paid once and never timed).  It waits on its stdin while
    Archetype runs: the two sides never run at the same time."""

    def __init__(self, threads):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--sk-worker",
                                      "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.pools = self._read()["pools"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the scikit-learn worker exited (status {self.proc.wait()})")
        return json.loads(line)

    def ask(self, **job):
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"scikit-learn: {answer['error']}")
        return answer

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()


def archetype_fit_cmd(archetype_bin, npy, k, n_init, threads, backend, out_dir, extra=()):
    return [archetype_bin, "fit", npy, "--k", str(k), "--n-init", str(n_init), "--threads", str(threads),
            "--backend", backend, "--no-figures", "--quiet", "--out", out_dir, "--force", *extra]


def round_rows(n):
    """Two significant digits: 1,234,567 -> 1,200,000."""
    n = max(int(n), 1)
    step = 10 ** max(len(str(n)) - 2, 0)
    return max(step, round(n / step) * step)


def grid_min_rows(k):
    return max(20 * k, 1_000)


def grid_max_rows(d, max_mb):
    return round_rows(max_mb * 1e6 / (4 * d) * 0.99)


def calibrate(worker, d, k, kind, target_s, n_init, max_mb):
    """Rows (and n_init when not fixed) so that scikit-learn takes about
    target_s seconds.

    The rule: scikit-learn's time is about linear in rows x n_init for a
    shape (d, k, data kind): each Lloyd iteration costs ~ rows x k x d (the
    gemm) and the iteration count hardly depends on rows.  One probe, a
    3-restart fit on rows_p rows of the same data (scaling + fit; rows_p
    starts at max(20 k, 2,000) and grows x4 until the probe takes 0.1 s or
    more), gives the cost of one row x restart: c = t_probe / (rows_p x 3).
    Then rows = target_s / (c x n_init), rounded to two significant digits,
    at least 20 k (and 1,000) rows, at most what keeps the .npy under max_mb.
    With n_init 'auto', n_init is the largest of 10, 3, 1 that still gives at
    least max(20 k, 1,000) rows (so small shapes get 10 restarts, the
    largest k x d get 1).

    The linear rule undershoots where the probe is small (scikit-learn's
    fixed cost per restart weighs on it) or its iteration count differs
    (170,000 x 16, k = 5 came out at 0.7 s for 3 s), so one check follows:
    a fit at the chosen rows and n_init, and when it took less than 0.75 or
    more than 1.33 times target_s, rows are rescaled once by target_s /
    t_check (same rounding and bounds; n_init kept).  The check's seconds
    and the rows before it are recorded with the point."""
    probe_n_init = 3
    rows_p = max(20 * k, 2_000)
    cap = grid_max_rows(d, max_mb)
    while True:
        rows_p = min(rows_p, cap)
        probe = worker.ask(op="probe", d=d, k=k, kind=kind, rows=rows_p, n_init=probe_n_init)
        if probe["seconds"] >= 0.1 or rows_p >= cap:
            break
        rows_p *= 4
    per_row_init = probe["seconds"] / (rows_p * probe_n_init)
    choices = (10, 3, 1) if n_init == "auto" else (int(n_init),)
    for n in choices:
        rows = target_s / (per_row_init * n)
        if rows >= grid_min_rows(k):
            break
    rows = min(max(round_rows(rows), grid_min_rows(k)), cap)
    cal = {"probe_rows": rows_p, "probe_n_init": probe_n_init, "probe_seconds": probe["seconds"],
           "estimated_sklearn_seconds": per_row_init * rows * n}
    check = worker.ask(op="probe", d=d, k=k, kind=kind, rows=rows, n_init=n)["seconds"]
    cal.update(check_rows=rows, check_seconds=check)
    if check > 0 and not 0.75 <= check / target_s <= 1.0 / 0.75:
        rows = min(max(round_rows(rows * target_s / check), grid_min_rows(k)), cap)
    cal["rescaled"] = rows != cal["check_rows"]
    return rows, n, cal


def parse_int_list(text):
    return [int(x) for x in text.split(",") if x.strip()]


def grid_points(args):
    """(rows or None (calibrate), d, k, n_init, kind) for every point."""
    if args.grid_quick:
        return list(QUICK_SHAPES)
    if args.grid_report:
        return list(REPORT_SHAPES)
    kinds = [x.strip() for x in args.grid_data.split(",") if x.strip()]
    for kind in kinds:
        if kind not in GRID_KINDS:
            raise SystemExit(f"bench_compare: --grid-data: unknown kind {kind!r} (expected {', '.join(GRID_KINDS)})")
    return [(args.grid_rows, d, k, args.grid_n_init, kind)
            for kind in kinds for d in parse_int_list(args.grid_d) for k in parse_int_list(args.grid_k)]


def grid_main(args):
    archetype_bin = os.path.join(args.build, "archetype")
    if not os.access(archetype_bin, os.X_OK):
        print(f"bench_compare: {archetype_bin} not found or not executable (build the target archetype first)",
              file=sys.stderr)
        return 1
    points = grid_points(args)
    repeats = args.repeats or 1
    threads = args.threads
    preset = " (--grid-quick smoke run: tiny sizes)" if args.grid_quick else (
        " (--grid-report: the shapes of the original report)" if args.grid_report else "")
    extra = shlex.split(args.grid_archetype_args)
    results, failures = [], []
    workdir = tempfile.mkdtemp(prefix="archetype_grid_")
    worker = None
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load_at_start = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        worker = SkWorker(threads)
        for i, (rows, d, k, n_init, kind) in enumerate(points, 1):
            label = f"d = {d}, k = {k}, {kind}"
            point = {"d": d, "k": k, "kind": kind}
            npy = None
            try:
                if rows is None or n_init == "auto":
                    progress(f"[{i}/{len(points)}] {label}: calibrating rows")
                    cal_rows, n_init, cal = calibrate(worker, d, k, kind, args.grid_seconds, n_init, args.grid_max_mb)
                    rows = rows or cal_rows
                    point["calibration"] = cal
                n_init = int(n_init)
                point.update(rows=rows, n_init=n_init)
                npy = os.path.join(workdir, f"grid_{rows}x{d}_k{k}_{kind}.npy")
                write_mixture_npy(npy, rows, d, k, kind)
                point["npy_mb"] = os.path.getsize(npy) / 1e6
                out_dir = os.path.join(workdir, "out")
                cmd = archetype_fit_cmd(archetype_bin, npy, k, n_init, threads, args.grid_backend, out_dir, extra)
                progress(f"[{i}/{len(points)}] {rows:,} x {d}, k = {k}, n_init = {n_init}, {kind}: "
                         "Archetype, then scikit-learn")
                a_times = [timed_process(cmd) for _ in range(repeats)]
                with open(os.path.join(out_dir, "summary.json")) as f:
                    summary_json = json.load(f)
                model = summary_json["model"]
                if len(summary_json["input"]["columns"]) != d:
                    raise RuntimeError(f"Archetype clustered {len(summary_json['input']['columns'])} columns, not {d}")
                point["archetype_timings_ms"] = summary_json.get("timings_ms")
                sk = [worker.ask(op="fit", npy=npy, k=k, n_init=n_init) for _ in range(repeats)]
                a_s, sk_s = min(a_times), min(x["seconds"] for x in sk)
                a_in, sk_in = float(model["inertia"]), sk[0]["inertia"]
                ratio = sk_s / a_s
                # --grid-inertia-seeds: the inertia compared as the mean over
                # 1 + N seeds a side (untimed runs), since one seed's best of
                # n_init varies by more than the tolerance on either side.
                a_ins, sk_ins = [a_in], [sk_in]
                for s in range(1, args.grid_inertia_seeds + 1):
                    subprocess.run(cmd + ["--seed", str(GRID_EXTRA_SEED_STEP * s + 42)], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    with open(os.path.join(out_dir, "summary.json")) as f:
                        a_ins.append(float(json.load(f)["model"]["inertia"]))
                    sk_ins.append(worker.ask(op="fit", npy=npy, k=k, n_init=n_init, seed=s)["inertia"])
                if args.grid_inertia_seeds > 0:
                    a_in, sk_in = statistics.mean(a_ins), statistics.mean(sk_ins)
                    point.update(archetype_inertias=a_ins, sklearn_inertias=sk_ins)
                diff = (a_in - sk_in) / sk_in * 100.0 if sk_in > 0 else (0.0 if a_in == sk_in else float("inf"))
                point.update(archetype_seconds=a_s, archetype_times=a_times, archetype_inertia=a_in,
                             archetype_n_iter_total=sum(r["n_iter"] for r in model.get("runs", [])),
                             archetype_n_iter_best=model.get("n_iter"),
                             sklearn_seconds=sk_s, sklearn_times=[x["seconds"] for x in sk], sklearn_inertia=sk_in,
                             sklearn_n_iter_best=sk[0]["n_iter"], ratio=ratio, inertia_diff_pct=diff,
                             passed=bool(ratio >= args.grid_target_ratio and diff <= args.grid_inertia_tol_pct))
                progress(f"    Archetype {fmt_s(a_s)}, scikit-learn {fmt_s(sk_s)}, ratio {ratio:.2f}, "
                         f"inertia {diff:+.3f}%")
            except Exception as e:  # noqa: BLE001 - record the point as failed and go on
                point["error"] = repr(e)
                failures.append(f"{label}: {e!r}")
            results.append(point)
            if npy and os.path.exists(npy):
                os.remove(npy)  # up to --grid-max-mb each: one at a time on disk
            shutil.rmtree(os.path.join(workdir, "out"), ignore_errors=True)
    except Exception as e:  # noqa: BLE001
        failures.append(f"scikit-learn worker: {e!r}")
    finally:
        if worker is not None:
            worker.close()
        shutil.rmtree(workdir, ignore_errors=True)

    target = (f"ratio >= {args.grid_target_ratio:g} and inertia <= "
              f"+{args.grid_inertia_tol_pct:g}%")
    table = ["| shape | Archetype | scikit-learn | ratio | inertia Archetype | inertia scikit-learn | "
             f"inertia diff | {target} |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for p in results:
        shape = (f"{p['rows']:,} x {p['d']}, k = {p['k']}, n_init = {p['n_init']}, {p['kind']}" if "rows" in p
                 else f"d = {p['d']}, k = {p['k']}, {p['kind']}")
        if "error" in p:
            table.append(f"| {shape} | failed | | | | | | FAIL |")
            continue
        table.append(f"| {shape} | {p['archetype_seconds']:.3f} s | {p['sklearn_seconds']:.3f} s | "
                     f"{p['ratio']:.2f} | {p['archetype_inertia']:.6g} | {p['sklearn_inertia']:.6g} | "
                     f"{p['inertia_diff_pct']:+.3f}% | {'pass' if p['passed'] else 'FAIL'} |")
    done = [p for p in results if "error" not in p]
    summary = (f"{sum(p['passed'] for p in done)} of {len(results)} points pass ({target})"
               + (f"; ratio {min(p['ratio'] for p in done):.2f} to {max(p['ratio'] for p in done):.2f}; "
                  f"inertia difference {min(p['inertia_diff_pct'] for p in done):+.3f}% to "
                  f"{max(p['inertia_diff_pct'] for p in done):+.3f}%" if done else "") + ".")
    phases = ["| shape | load | scale | profile | fit | silhouette | other | Lloyd iterations: Archetype (all "
              "restarts) / scikit-learn (best restart) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in done:
        ms = p.get("archetype_timings_ms") or {}
        named = ("load", "scale", "profile", "fit", "silhouette")
        other = ms.get("total", 0.0) - sum(ms.get(x, 0.0) for x in named)
        phases.append(f"| {p['rows']:,} x {p['d']}, k = {p['k']}, {p['kind']} | "
                      + " | ".join(fmt_s(ms[x] / 1e3) if x in ms else "?" for x in named)
                      + f" | {fmt_s(other / 1e3)} | {p['archetype_n_iter_total']} / {p['sklearn_n_iter_best']} |")
    machine = machine_lines(args.build, archetype_bin, None)
    machine.insert(machine.index("## Versions") - 1,
                   "- scikit-learn worker process: " + "; ".join(worker.pools if worker else ["did not start"]))
    notes = [
        f"Started {started} (load average {load_at_start}); {threads} threads on both sides; best of "
        f"{repeats} run(s) per side and point.",
        "Archetype: wall time of `" + " ".join(archetype_fit_cmd(archetype_bin, "FILE.npy", "K", "N", threads,
                                                                   args.grid_backend, "TMP", extra)) + "` (a separate process: start-up, "
        "reading the .npy, scaling, every restart, metrics and output files included); inertia from "
        "summary.json `model.inertia` (standardized units). Its `fit` also computes the silhouette (exact "
        "up to 50,000 rows, a sample above: `--silhouette` rule), the restarts' stability ARI, personas and the "
        "reports, which scikit-learn's side does not: see the phase table.",
        "scikit-learn 1.2.1, in a separate worker process started once (OMP/OPENBLAS/MKL_NUM_THREADS and "
        "threadpoolctl limited to the same threads), one side after the other: `np.load` (float32), "
        "`StandardScaler().fit_transform` (float32), `KMeans(n_clusters=k, n_init=n_init, algorithm=\"lloyd\", "
        "random_state=0, tol=1e-4, max_iter=300).fit`, timed from the load to the end of the fit (interpreter "
        "start and imports not timed).",
        "ratio = scikit-learn time / Archetype time (above 1: Archetype is faster); inertia diff = "
        "(Archetype - scikit-learn) / scikit-learn"
        + (f", each side's inertia the mean over {1 + args.grid_inertia_seeds} seeds (Archetype `--seed` 42, "
           f"42 + {GRID_EXTRA_SEED_STEP}, ...; scikit-learn random_state 0, 1, ...; the extra runs untimed)."
           if args.grid_inertia_seeds > 0 else " (one seed a side: Archetype's default 42, scikit-learn's "
           "random_state 0)."),
        f"Data: seeded (seed {GRID_SEED}) float32 C-order .npy; blobs = as many Gaussian blobs as k (median "
        f"nearest-centre distance {BLOB_SEPARATION:g} noise sd), features in unequal units; heavy = the same "
        f"mixture standardized and exponentiated (lognormal-like), 0.1% of rows x{HEAVY_OUTLIER_FACTOR:g} outliers.",
    ]
    if any("calibration" in p for p in results):
        notes.append(f"Rows calibrated for about {args.grid_seconds:g} s of scikit-learn (a probe scaled linearly, "
                     "then one check fit and one rescale: see calibrate() in "
                     f"scripts/bench_compare.py), .npy at most {args.grid_max_mb:g} MB.")
    out = [f"# Archetype `fit` vs scikit-learn: grid{preset}", ""] + machine + ["## Results", "", summary, ""] \
        + table + [""] + [f"- {n}" for n in notes] \
        + ["", "Archetype's own phase times (summary.json `timings_ms`; other = personas, report, output files):", ""] \
        + phases
    if failures:
        out += ["", "## Failures", ""] + [f"- {f}" for f in failures]
    print("\n".join(out))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"title": out[0].lstrip("# "), "started": started, "threads": threads, "repeats": repeats,
                       "target": {"ratio_min": args.grid_target_ratio,
                                  "inertia_diff_pct_max": args.grid_inertia_tol_pct,
                                  "inertia_seeds_per_side": 1 + args.grid_inertia_seeds},
                       "machine_markdown": machine, "versions": versions_dict(archetype_bin),
                       "points": results, "summary": summary, "table_markdown": "\n".join(table),
                       "phases_markdown": "\n".join(phases),
                       "notes": notes, "failures": failures}, f, indent=2)
            f.write("\n")
    return 1 if failures else 0


def versions_dict(archetype_bin):
    import sklearn

    cpu = lscpu_fields()
    return {"archetype": subprocess.run([archetype_bin, "--version"], capture_output=True, text=True).stdout.strip(),
            "python": platform.python_version(), "numpy": np.__version__, "scikit_learn": sklearn.__version__,
            "cpu": cpu.get("Model name", platform.processor() or "?"), "cpus": cpu.get("CPU(s)"),
            "usable_cpus": len(os.sched_getaffinity(0))}


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
    grid = parser.add_argument_group(
        "grid mode", "the whole `archetype fit` from .npy against scikit-learn on a d x k grid (instead of the "
        "cases above); --repeats defaults to 1 there")
    grid.add_argument("--grid", action="store_true", help="run the d x k grid (rows calibrated per point)")
    grid.add_argument("--grid-quick", action="store_true",
                      help="a smoke run: 3 tiny fixed shapes, about a second each (implies --grid)")
    grid.add_argument("--grid-report", action="store_true",
                      help="the 5 fixed shapes of the original report (implies --grid)")
    grid.add_argument("--grid-d", default=",".join(map(str, GRID_D)), help="features, comma-separated "
                      "(default %(default)s)")
    grid.add_argument("--grid-k", default=",".join(map(str, GRID_K)), help="clusters, comma-separated "
                      "(default %(default)s)")
    grid.add_argument("--grid-data", default=",".join(GRID_KINDS),
                      help="data kinds, comma-separated: blobs, heavy (default %(default)s)")
    grid.add_argument("--grid-n-init", default="auto",
                      help="restarts on both sides: a number, or auto (10, 3 or 1 by size; default)")
    grid.add_argument("--grid-seconds", type=float, default=3.0,
                      help="scikit-learn seconds the calibrated rows aim at (default %(default)s)")
    grid.add_argument("--grid-rows", type=int, default=None, help="fixed rows for every point (no rows calibration; "
                      "--grid-n-init auto still takes one probe per point)")
    grid.add_argument("--grid-max-mb", type=float, default=400.0,
                      help="largest .npy written, MB (caps the rows; default %(default)s)")
    grid.add_argument("--grid-backend", default="cpu", help="Archetype --backend (default %(default)s)")
    grid.add_argument("--grid-archetype-args", default="",
                      help="extra options for every `archetype fit` (use the = form: "
                      "--grid-archetype-args='--silhouette-sample 10000'; default none)")
    grid.add_argument("--grid-target-ratio", type=float, default=3.0,
                      help="pass: scikit-learn time / Archetype time at least this (default %(default)s)")
    grid.add_argument("--grid-inertia-seeds", type=int, default=0,
                      help="N more seeds a side per point (untimed): the inertia compared is the mean over 1 + N "
                           "seeds (Archetype --seed 42 + 1000 s, scikit-learn random_state s); default 0 (one seed)")
    grid.add_argument("--grid-inertia-tol-pct", type=float, default=0.2,
                      help="pass: Archetype inertia at most this %% above scikit-learn's (default %(default)s)")
    grid.add_argument("--threads", type=int, default=2, help="threads on both sides (grid mode; default 2)")
    grid.add_argument("--json-out", default=None, help="also write the table and raw numbers as JSON here")
    parser.add_argument("--sk-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sk_worker:
        return sk_worker(args.threads)
    if args.grid_n_init != "auto" and not (args.grid_n_init.isdigit() and int(args.grid_n_init) > 0):
        parser.error(f"--grid-n-init: expected a positive number or auto, found {args.grid_n_init!r}")
    if args.grid or args.grid_quick or args.grid_report:
        return grid_main(args)

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
