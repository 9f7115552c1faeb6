#!/usr/bin/python3
"""Rebuild the figure generator's test fixtures (not run by the tests).

  /usr/bin/python3 tests/figures/make_fixtures.py RUN_DIR [--density-out DIR]
      [--density-rows N] [--grid G]

RUN_DIR is the output of `./build/archetype run --out RUN_DIR` on the
reference data.  Until the C++ side writes them, this script synthesises
what scripts/figures.py reads:

  fixtures/reference/  summary.json (RUN_DIR's, plus histogram and density per
                       feature), figure_points.csv, figure_silhouette.csv
                       (exact silhouette in the model's standardised space)
  fixtures/density/    a large-run look-alike: N synthetic creators (default
                       10,000,000) drawn around the reference centroids,
                       labelled by the nearest centroid, binned per cluster on
                       a G x G grid (default 64 for the committed fixture)
                       into figure_density.json, with a summary.json to match
                       and a 4,000-row silhouette sample.

--density-out writes the density fixture elsewhere (e.g. a 400 x 400 grid in
/tmp for timing) instead of into fixtures/density.

  /usr/bin/python3 tests/figures/make_fixtures.py --pca-table TABLE.csv
  ./build/archetype run TABLE.csv --k 4 --k-max 7 --out PCA_RUN --force
  /usr/bin/python3 tests/figures/make_fixtures.py --pca-run PCA_RUN TABLE.csv

  fixtures/pca4/       a run on a four-feature table (1,500 synthetic creators
                       with heavy-tailed features, so that the relative
                       importances reach hundreds of percent): PCA_RUN's
                       summary.json plus the "projection" object and
                       figure_points.csv as principal-component scores
                       (pc1,pc2,cluster) of the standardised data, which is
                       what the C++ side writes for more than two features.
"""
import argparse
import copy
import csv
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "data", "instagram_visits_clustering.csv")


def histogram_and_kde(x, bins="auto", grid=256):
    counts, edges = np.histogram(x, bins=bins)
    n, sd = x.size, x.std(ddof=1)
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    h = 0.9 * min(sd, iqr / 1.34) * n ** -0.2          # Silverman's rule
    xs = np.linspace(x.min() - 3 * h, x.max() + 3 * h, grid)
    if n > 20000:                                       # binned KDE for big n
        c, e = np.histogram(x, bins=2048, range=(xs[0], xs[-1]))
        mid = (e[:-1] + e[1:]) / 2
        ys = (c[None, :] * np.exp(-0.5 * ((xs[:, None] - mid[None, :]) / h) ** 2)).sum(1)
    else:
        ys = np.exp(-0.5 * ((xs[:, None] - x[None, :]) / h) ** 2).sum(1)
    ys /= n * h * math.sqrt(2 * math.pi)
    return ({"edges": edges.tolist(), "counts": counts.astype(int).tolist()},
            {"x": xs.tolist(), "y": ys.tolist()})


def silhouette(z, labels):
    """Exact mean-distance silhouette per row (O(n^2), fine for a few thousand)."""
    k = labels.max() + 1
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    sums = np.stack([d[:, labels == c].sum(1) for c in range(k)], 1)
    sizes = np.bincount(labels, minlength=k).astype(float)
    own = sizes[labels] - 1
    a = np.where(own > 0, sums[np.arange(len(z)), labels] / np.maximum(own, 1), 0)
    other = sums / sizes[None, :]
    other[np.arange(len(z)), labels] = np.inf
    b = other.min(1)
    s = np.where(own > 0, (b - a) / np.maximum(a, b), 0.0)
    return s


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def reference(run_dir, out):
    os.makedirs(out, exist_ok=True)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    raw = np.genfromtxt(DATA, delimiter=",", skip_header=1)
    ids, X = raw[:, 0].astype(int), raw[:, 1:3]
    lab = {}
    with open(os.path.join(run_dir, "labels.csv")) as f:
        for r in csv.DictReader(f):
            lab[int(r["User ID"])] = int(r["cluster"])
    labels = np.array([lab[i] for i in ids])
    for j, p in enumerate(summary["profile"]):
        p["histogram"], p["density"] = histogram_and_kde(X[:, j])
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
    write_csv(os.path.join(out, "figure_points.csv"), ["x", "y", "cluster"],
              [(f"{x:.10g}", f"{y:.10g}", c) for (x, y), c in zip(X, labels)])
    sc = summary["scaler"]
    z = (X - np.array(sc["mean"])) / np.array(sc["scale"])
    s = silhouette(z, labels)
    print("reference silhouette", s.mean(), "summary says", summary["model"]["silhouette"])
    write_csv(os.path.join(out, "figure_silhouette.csv"), ["cluster", "silhouette"],
              [(c, f"{v:.6f}") for c, v in zip(labels, s)])


def density(ref_dir, out, n, grid, sample=4000, seed=7):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    summary = json.load(open(os.path.join(ref_dir, "summary.json")))
    model = summary["model"]
    cents = np.array([c["centroid"] for c in model["clusters"]])
    share = np.array([c["share"] for c in model["clusters"]])
    sc = summary["scaler"]
    mu, scale = np.array(sc["mean"]), np.array(sc["scale"])
    comp = rng.choice(len(cents), size=n, p=share / share.sum())
    X = cents[comp] + rng.normal(size=(n, 2)) * np.array([9.0, 9.0])
    X = np.clip(X, [0, 0], [125, 110])
    zc = (cents - mu) / scale
    z = (X - mu) / scale
    labels = np.argmin(((z[:, None, :] - zc[None, :, :]) ** 2).sum(-1), axis=1)
    xe = np.linspace(0, 125, grid + 1)
    ye = np.linspace(0, 110, grid + 1)
    clusters = []
    for c in range(len(cents)):
        sel = labels == c
        h, _, _ = np.histogram2d(X[sel, 1], X[sel, 0], bins=[ye, xe])   # counts[iy][ix]
        clusters.append({"id": model["clusters"][c]["id"], "counts": h.astype(int).tolist()})
    with open(os.path.join(out, "figure_density.json"), "w") as f:
        json.dump({"x_edges": xe.tolist(), "y_edges": ye.tolist(), "clusters": clusters}, f,
                  separators=(",", ":"))
    # summary.json to match
    s2 = copy.deepcopy(summary)
    s2["input"]["rows"] = n
    s2["input"]["path"] = "synthetic"
    sizes = np.bincount(labels, minlength=len(cents))
    for c, cl in enumerate(s2["model"]["clusters"]):
        cl["size"] = int(sizes[c])
        cl["share"] = float(sizes[c] / n)
        cl["centroid"] = X[labels == c].mean(0).tolist()
        cl["relative_importance"] = (X[labels == c].mean(0) / X.mean(0) - 1).tolist()
    pick = rng.choice(n, size=sample, replace=False)
    s = silhouette(z[pick], labels[pick])
    for c, cl in enumerate(s2["model"]["clusters"]):
        m = labels[pick] == c
        cl["silhouette"] = float(s[m].mean()) if m.any() else None
    s2["model"]["silhouette"] = float(s.mean())
    s2["model"]["silhouette_rows"] = sample
    for j, p in enumerate(s2["profile"]):
        x = X[:, j]
        p["mean"], p["std"] = float(x.mean()), float(x.std(ddof=1))
        p["min"], p["max"] = float(x.min()), float(x.max())
        p["histogram"], p["density"] = histogram_and_kde(x, bins=60)
        th = np.array(p["qq"]["theoretical"])
        qs = np.quantile(x, np.linspace(0.5 / 512, 1 - 0.5 / 512, th.size))
        p["qq"]["sample"] = qs.tolist()
        slope, icpt = np.polyfit(th, qs, 1)
        p["qq"]["slope"], p["qq"]["intercept"] = float(slope), float(icpt)
        p["qq"]["r"] = float(np.corrcoef(th, qs)[0, 1])
    json.dump(s2, open(os.path.join(out, "summary.json"), "w"), indent=1)
    write_csv(os.path.join(out, "figure_silhouette.csv"), ["cluster", "silhouette"],
              [(model["clusters"][c]["id"], f"{v:.6f}") for c, v in zip(labels[pick], s)])


PCA_FEATURES = ["Followers", "Engagement Rate", "Posts per Week", "Monthly Revenue (USD)"]


def pca_table(path, n=1500, k=4, seed=11):
    """A four-feature creator table with k groups, on scales from 1 to 1000
    and a log-normal first feature."""
    rng = np.random.default_rng(seed)
    d = len(PCA_FEATURES)
    centres = rng.normal(0, 3, size=(k, d))
    group = rng.integers(0, k, n)
    scale = np.geomspace(1, 1000, d)
    X = (centres[group] + rng.normal(size=(n, d))) * scale + 4 * scale
    X[:, 0] = np.exp(X[:, 0] / 2)
    write_csv(path, ["User ID"] + PCA_FEATURES,
              [[i] + [f"{v:.4f}" for v in row] for i, row in enumerate(X)])


def pca_run(run_dir, table, out):
    """fixtures/pca4 from `archetype run TABLE` (see the module docstring)."""
    os.makedirs(out, exist_ok=True)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    raw = np.genfromtxt(table, delimiter=",", skip_header=1)
    ids, X = raw[:, 0].astype(int), raw[:, 1:]
    with open(os.path.join(run_dir, "labels.csv")) as f:
        lab = {int(r["User ID"]): int(r["cluster"]) for r in csv.DictReader(f)}
    labels = np.array([lab[i] for i in ids])
    sc = summary["scaler"]
    z = (X - np.array(sc["mean"])) / np.array(sc["scale"])
    z -= z.mean(0)
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    ratio = sv ** 2 / (sv ** 2).sum()
    scores = z @ vt[:2].T
    summary["projection"] = {
        "method": "pca", "features": X.shape[1],
        "explained_variance_ratio": [float(r) for r in ratio[:2]],
        "axes": [f"PC{i + 1} ({100 * ratio[i]:.1f}% of variance)" for i in range(2)]}
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
    write_csv(os.path.join(out, "figure_points.csv"), ["pc1", "pc2", "cluster"],
              [(f"{a:.6g}", f"{b:.6g}", c) for (a, b), c in zip(scores, labels)])
    with open(os.path.join(run_dir, "figure_silhouette.csv")) as f, \
            open(os.path.join(out, "figure_silhouette.csv"), "w") as g:
        g.write(f.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--density-out")
    ap.add_argument("--density-rows", type=int, default=10_000_000)
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--pca-table", metavar="TABLE.csv")
    ap.add_argument("--pca-run", nargs=2, metavar=("PCA_RUN", "TABLE.csv"))
    a = ap.parse_args()
    if a.pca_table:
        return pca_table(a.pca_table)
    if a.pca_run:
        return pca_run(a.pca_run[0], a.pca_run[1], os.path.join(HERE, "fixtures", "pca4"))
    if not a.run_dir:
        ap.error("RUN_DIR is required")
    ref = os.path.join(HERE, "fixtures", "reference")
    if not a.density_out:
        reference(a.run_dir, ref)
    density(ref, a.density_out or os.path.join(HERE, "fixtures", "density"), a.density_rows, a.grid)


if __name__ == "__main__":
    sys.exit(main())
