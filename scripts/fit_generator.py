#!/usr/bin/python3
"""Fit the synthetic-creator generator's parameters (data/generator.json).

The reference dataset's two metrics are clustered as the study does
(StandardScaler, then KMeans(5, n_init=10, random_state=0)); each cluster
becomes one component of a Gaussian mixture in original units: weight =
cluster size / rows, mean, and full covariance (ddof=1).  The min/max of
each metric are recorded too: the generator clamps engagement to them.

Run with Debian's interpreter (numpy and scikit-learn from apt):

    /usr/bin/python3 scripts/fit_generator.py [CSV] [--out data/generator.json]
"""
import argparse
import csv
import json
import os
import re
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ID_COLUMN = "User ID"
ENGAGEMENT = "Instagram visit score"
MONETIZATION = "Spending_rank(0 to 100)"
COMPONENTS = 5

COMMENT = [
    "Parameters of `archetype generate`: a Gaussian mixture fitted to the reference dataset "
    "(data/instagram_visits_clustering.csv) in original units.",
    "version: format version (1). columns: the CSV header of a generated two-metric file "
    "(id column first); with --features D > 2 the extra columns are named metric_3 .. metric_D.",
    "features[j]: column (header name); integer (true: values rounded to the nearest integer); "
    "min, max: the reference data's range of that metric; decimals: digits after the point "
    "written for a real-valued metric.",
    "Generation: engagement (features[0]) is rounded to the nearest integer (half away from zero) "
    "and clamped to [min, max]; monetization (features[1]) is reflected at 0 (|x|), so it is never "
    "negative and its density near 0 stays smooth, then rounded to `decimals` digits; it has no "
    "upper clamp (the reference data exceed 100 too). The .npy output holds the float32 values "
    "of the CSV text.",
    "components[c]: weight (share of rows, sums to 1), size (the cluster's row count in the "
    "reference data, informational), mean [engagement, monetization], cov "
    "(2x2 covariance, symmetric positive definite). Drawn as mean + L z with L the Cholesky "
    "factor of cov and z two independent standard normals.",
    "extra_features (--features D > 2): metric_j for j = 3..D is center + scale * (a_j u1 + b_j u2 "
    "+ sqrt(1 - loading^2) e), reflected at 0 and written with `decimals`; u1, u2 are the drawn "
    "engagement and monetization (before rounding) standardized by the mixture's overall mean and "
    "standard deviation, e is a fresh standard normal, a_j = loading cos(t_j), b_j = loading sin(t_j), "
    "t_j = pi/4 + (j - 3) * golden angle (pi (3 - sqrt 5)): about loading^2 of each extra "
    "metric's variance is explained by the first two metrics, in a different mix for every j "
    "(metric_3 loads equally on both), on a 0..100-like scale around `center`. These four values "
    "are chosen, not fitted.",
    "Fitted by scripts/fit_generator.py: StandardScaler + KMeans(n_clusters=5, n_init=10, "
    "random_state=0) on the two metrics (scikit-learn 1.2); per cluster weight = size / rows, "
    "mean and covariance (ddof=1) in original units; components sorted by mean engagement.",
    "Regenerate with: /usr/bin/python3 scripts/fit_generator.py",
]


def load(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = [(float(r[ENGAGEMENT]), float(r[MONETIZATION])) for r in reader]
    return np.asarray(rows, dtype=np.float64)


def fit(X):
    z = StandardScaler().fit_transform(X)
    labels = KMeans(n_clusters=COMPONENTS, n_init=10, random_state=0).fit_predict(z)
    comps = []
    for c in range(COMPONENTS):
        pts = X[labels == c]
        comps.append({
            "weight": round(len(pts) / len(X), 12),
            "size": int(len(pts)),
            "mean": [round(float(v), 10) for v in pts.mean(axis=0)],
            "cov": [[round(float(v), 10) for v in row] for row in np.cov(pts, rowvar=False, ddof=1)],
        })
    comps.sort(key=lambda c: c["mean"][0])
    return comps


def dumps(doc):
    """JSON with two-space indentation, but numeric arrays on one line."""
    text = json.dumps(doc, indent=2)
    flat = re.compile(r"\[\s*(-?[0-9][-0-9.eE+]*(?:,\s*-?[0-9][-0-9.eE+]*)*)\s*\]")
    for _ in range(2):  # inner arrays first, then the 2x2 matrices built of them
        text = flat.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
        text = re.sub(r"\[\s*(\[[^\[\]]*\](?:,\s*\[[^\[\]]*\])*)\s*\]",
                      lambda m: "[" + re.sub(r",\s*\[", ", [", m.group(1)) + "]", text)
    return text + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", default=os.path.join(ROOT, "data", "instagram_visits_clustering.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "generator.json"))
    args = ap.parse_args()
    X = load(args.csv)
    comps = fit(X)
    doc = {
        "_comment": COMMENT,
        "version": 1,
        "columns": [ID_COLUMN, ENGAGEMENT, MONETIZATION],
        "features": [
            {"column": ENGAGEMENT, "integer": True, "min": int(X[:, 0].min()), "max": int(X[:, 0].max())},
            {"column": MONETIZATION, "integer": False, "min": float(X[:, 1].min()),
             "max": float(X[:, 1].max()), "decimals": 6},
        ],
        "components": comps,
        "extra_features": {"center": 50.0, "scale": 15.0, "loading": 0.8, "decimals": 6},
    }
    with open(args.out, "w") as f:
        f.write(dumps(doc))
    print(f"wrote {args.out}: {len(comps)} components from {len(X)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
