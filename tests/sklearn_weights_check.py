#!/usr/bin/python3
"""`archetype fit --weight-column` against scikit-learn 1.2.1 (ctest: sklearn_weights).

    /usr/bin/python3 tests/sklearn_weights_check.py path/to/archetype

Generated data (never the reference dataset) with real weights, fitted by
Archetype to its fixed point (--tol 0).  Then, in scikit-learn on the same
float32 z values:

- StandardScaler().fit(X, sample_weight=w) gives Archetype's scaler;
- one weighted Lloyd step of KMeans from Archetype's centres leaves them
  where they are, with Archetype's labels and weighted inertia (relative
  1e-6: float32 data on Archetype's side, float64 in scikit-learn);
- with integer weights, the same on the rows repeated w times.

Exit 0 when all hold, 1 otherwise, 77 (skipped) without numpy/sklearn.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e}")
    sys.exit(77)


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def fit(archetype, folder, csv, k):
    out = os.path.join(folder, "out_" + os.path.basename(csv))
    subprocess.run([archetype, "fit", csv, "--weight-column", "w", "--k", str(k), "--tol", "0", "--n-init", "4",
                    "--backend", "cpu", "--no-figures", "--quiet", "--out", out], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "model.json")) as f:
        model = json.load(f)
    labels = np.genfromtxt(os.path.join(out, "labels.csv"), delimiter=",", skip_header=1, usecols=1, dtype=int)
    return summary, model, labels


def compare(archetype, folder, X, w, k, name):
    csv = os.path.join(folder, name + ".csv")
    with open(csv, "w") as f:
        f.write("a,b,c,w\n")
        for row, weight in zip(X, w):
            f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(weight)) + "\n")
    summary, model, labels = fit(archetype, folder, csv, k)
    Xf = X.astype(np.float32).astype(np.float64)  # the values Archetype reads
    scaler = StandardScaler().fit(Xf, sample_weight=w)
    check(np.allclose(summary["scaler"]["mean"], scaler.mean_, rtol=1e-10, atol=1e-12), f"{name}: scaler mean")
    check(np.allclose(summary["scaler"]["scale"], scaler.scale_, rtol=1e-10), f"{name}: scaler scale")
    z = ((Xf - np.array(summary["scaler"]["mean"])) / np.array(summary["scaler"]["scale"])).astype(np.float32)
    centres = np.array(model["centroids_scaled"], dtype=np.float64)
    km = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=1, tol=0.0).fit(z.astype(np.float64), sample_weight=w)
    check(np.array_equal(km.labels_, labels), f"{name}: labels")
    check(np.allclose(km.cluster_centers_, centres, rtol=0, atol=1e-5), f"{name}: centres are a weighted Lloyd fixed point")
    inertia = summary["model"]["inertia"]
    check(abs(km.inertia_ - inertia) <= 1e-6 * inertia, f"{name}: inertia {inertia} vs scikit-learn {km.inertia_}")
    print(f"{name}: scaler, labels, centres and inertia ({inertia:.9g} vs {km.inertia_:.9g}) agree")
    return summary, labels


def main():
    archetype = sys.argv[1]
    rng = np.random.RandomState(0)
    centres = np.array([[0, 0, 0], [6, 1, -2], [1, 7, 3], [-5, 4, 8]], dtype=np.float64)
    X = np.vstack([c + rng.normal(size=(150, 3)) * (1 + i % 2) for i, c in enumerate(centres)])
    with tempfile.TemporaryDirectory() as folder:
        compare(archetype, folder, X, rng.uniform(0.05, 3.0, size=len(X)), 4, "real")
        wi = rng.randint(1, 5, size=len(X)).astype(np.float64)
        summary, labels = compare(archetype, folder, X, wi, 4, "integer")
        # The rows repeated w times, without weights, in scikit-learn: the
        # same inertia for the same centres.
        rep = np.repeat(X, wi.astype(int), axis=0)
        z = ((rep.astype(np.float32).astype(np.float64) - np.array(summary["scaler"]["mean"]))
             / np.array(summary["scaler"]["scale"]))
        km = KMeans(n_clusters=4, init=np.array([c["centroid_scaled"] for c in summary["model"]["clusters"]]),
                    n_init=1, max_iter=1, tol=0.0).fit(z)
        check(np.array_equal(km.labels_, np.repeat(labels, wi.astype(int))), "repeated rows: labels")
        inertia = summary["model"]["inertia"]
        check(abs(km.inertia_ - inertia) <= 1e-6 * inertia, f"repeated rows: inertia {inertia} vs {km.inertia_}")
        print(f"repeated rows: labels and inertia ({km.inertia_:.9g}) agree")


if __name__ == "__main__":
    main()
