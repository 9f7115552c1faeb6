#!/usr/bin/env python3
"""The Python package's targets (issue 14), in one process on 2 threads:

  archetype.KMeans vs scikit-learn's KMeans, 1,000,000 x 2 float32, k = 5,
  n_init = 10 (target: >= 10x faster), and archetype.silhouette_score vs
  scikit-learn's on 20,000 rows (target: >= 30x).

Each is timed `--repeat` times (default 3); the median is reported, with
nproc and the load average (the machine may be shared).  Data: five
overlapping standardized blobs, the engine benchmarks' (bench/bench_data.hpp)
kind, from NumPy's generator.

    OMP_NUM_THREADS=2 PYTHONPATH=build/python /usr/bin/python3 scripts/bench_python.py
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # before NumPy/scikit-learn load their thread pools
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans as SKKMeans  # noqa: E402
from sklearn.metrics import silhouette_score as sk_silhouette  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import archetype  # noqa: E402

CENTERS = np.array([[0.6, 1.5], [1.0, -0.8], [-0.9, 0.8], [-0.1, -0.8], [-1.5, -0.6]])


def blobs(n, seed=7):
    rng = np.random.default_rng(seed)
    X = CENTERS[rng.integers(0, 5, size=n)] + rng.normal(0.0, 0.35, size=(n, 2))
    return np.ascontiguousarray(X, dtype=np.float32)


def median_seconds(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--silhouette-rows", type=int, default=20_000)
    args = ap.parse_args()
    threads = int(os.environ["OMP_NUM_THREADS"])
    load = os.getloadavg()
    print(f"nproc {os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"threads {threads}, archetype {archetype.__version__}, scikit-learn {sklearn.__version__}, "
          f"NumPy {np.__version__}")

    X = blobs(args.rows)
    ours = lambda: archetype.KMeans(n_clusters=5, n_init=10, random_state=0, n_threads=threads).fit(X)  # noqa: E731
    theirs = lambda: SKKMeans(n_clusters=5, n_init=10, random_state=0).fit(X)  # noqa: E731
    ours()  # warm-up: page faults, OpenMP threads
    with threadpool_limits(limits=threads):
        t_ours, all_ours = median_seconds(ours, args.repeat)
        t_theirs, all_theirs = median_seconds(theirs, args.repeat)
    a, b = ours(), theirs()
    print(f"KMeans {args.rows:,} x 2 float32, k = 5, n_init = 10: archetype {t_ours:.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in all_ours)}), scikit-learn {t_theirs:.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in all_theirs)}): {t_theirs / t_ours:.1f}x "
          f"(target >= 10x); inertia {a.inertia_:.6g} vs {b.inertia_:.6g}")

    S = X[: args.silhouette_rows]
    labels = a.labels_[: args.silhouette_rows]
    ours = lambda: archetype.silhouette_score(S, labels)  # noqa: E731
    theirs = lambda: sk_silhouette(S, labels)  # noqa: E731
    ours()
    with threadpool_limits(limits=threads):
        t_ours, all_ours = median_seconds(ours, args.repeat)
        t_theirs, all_theirs = median_seconds(theirs, args.repeat)
    print(f"silhouette_score {args.silhouette_rows:,} x 2: archetype {t_ours:.4f} s "
          f"(runs {', '.join(f'{t:.4f}' for t in all_ours)}), scikit-learn {t_theirs:.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in all_theirs)}): {t_theirs / t_ours:.1f}x (target >= 30x); "
          f"score {ours():.7f} vs {theirs():.7f}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
