"""archetype.sweep (the fused sweep) and archetype.study (the study of
`archetype run`, through the CLI's own code path)."""
import json
import os
import subprocess

import numpy as np
import pytest

import archetype
from conftest import blobs

pd = pytest.importorskip("pandas")


def test_sweep_rows_are_the_lone_fits_and_their_scores():
    X, _ = blobs(1500, 3, 4, seed=5)
    df = archetype.sweep(X, range(2, 7), n_init=3, random_state=9, n_threads=2)
    assert list(df.columns[:6]) == ["k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "n_iter"]
    assert list(df["k"]) == [2, 3, 4, 5, 6]
    for row in df.itertuples():
        km = archetype.KMeans(n_clusters=row.k, n_init=3, random_state=9, n_threads=2).fit(X)
        assert row.inertia == km.inertia_  # fused or alone: the same bits
        assert row.n_iter == km.n_iter_
        assert list(row.sizes) == list(np.bincount(km.labels_, minlength=row.k))
        assert row.silhouette == archetype.silhouette_score(X, km.labels_)
        assert row.calinski_harabasz == archetype.calinski_harabasz_score(X, km.labels_)
        assert row.davies_bouldin == archetype.davies_bouldin_score(X, km.labels_)
        assert row.silhouette_rows == 1500
    assert df.attrs["silhouette_k"] == 4  # four blobs
    assert df.attrs["elbow_k"] in set(df["k"])


def test_sweep_samples_the_silhouette_above_the_threshold_and_skips_k_above_n():
    X, _ = blobs(60, 2, 3, seed=6)
    df = archetype.sweep(X, range(2, 5), n_init=2, random_state=1, silhouette_sample_size=30)
    assert list(df["silhouette_rows"]) == [30, 30, 30]
    assert (df["silhouette_ci_low"] <= df["silhouette"]).all() and (df["silhouette"] <= df["silhouette_ci_high"]).all()
    small = archetype.sweep(X[:3], range(2, 6), n_init=1, random_state=1)
    assert list(small["k"]) == [2, 3]
    assert np.isnan(small["silhouette"].iloc[1])  # k = n: undefined, as in scikit-learn
    with pytest.raises(ValueError, match="k_range must be consecutive"):
        archetype.sweep(X, [2, 4])


def _table(n=400, seed=3):
    X, _ = blobs(n, 3, 3, seed=seed, dtype=np.float64)
    df = pd.DataFrame(np.abs(X) * [100.0, 1.0, 10.0], columns=["followers", "posts_per_week", "revenue_usd"])
    df.insert(0, "creator", [f"@user{i}" for i in range(n)])
    return df


def test_study_of_a_dataframe():
    df = _table()
    s = archetype.study(df, k=3, n_init=3, n_threads=2)
    assert s.k == 3 and s.result.model.k == 3 and s.result.command == "run"
    assert s.labels.dtype == np.int32 and len(s.labels) == len(df) and set(s.labels) == {0, 1, 2}
    assert s.ids == list(df["creator"])  # the distinct text column is the id, as in the CLI
    assert list(s.result.input.columns) == ["followers", "posts_per_week", "revenue_usd"]
    assert len(s.personas) == 3 and all(s.personas)
    assert list(s.sweep["k"]) == list(range(2, 11))
    assert list(s.profile["feature"]) == list(s.result.input.feature_names)
    assert s.clusters["size"].sum() == len(df)
    assert "Using k = 3" in str(s) and s.files == []
    # The final model equals archetype.KMeans on the standardized table.
    # The reader reads float32 values; the scaler computes in double and rounds once.
    raw = df[["followers", "posts_per_week", "revenue_usd"]].to_numpy(np.float32).astype(np.float64)
    z = (raw - s.result.scaler.mean) / s.result.scaler.scale
    km = archetype.KMeans(n_clusters=3, n_init=3, random_state=42).fit(z.astype(np.float32))
    assert np.array_equal(km.labels_, s.labels)


def test_study_writes_what_archetype_run_writes(tmp_path):
    df = _table(300, seed=4)
    csv = tmp_path / "creators.csv"
    df.to_csv(csv, index=False)
    s = archetype.study(str(csv), k=3, n_init=2, out=tmp_path / "py", figures=False)
    assert sorted(os.path.basename(f) for f in s.files) == sorted(os.listdir(tmp_path / "py"))
    cli = os.environ.get("ARCHETYPE_CLI")
    if not cli:
        pytest.skip("ARCHETYPE_CLI (the archetype binary) not given")
    subprocess.run([cli, "run", str(csv), "--k", "3", "--n-init", "2", "--no-figures", "--quiet",
                    "--out", str(tmp_path / "cli")], check=True, capture_output=True)
    assert sorted(os.listdir(tmp_path / "cli")) == sorted(os.listdir(tmp_path / "py"))
    for name in ("labels.npy", "labels.csv", "sweep.csv"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "py" / name).read_bytes(), name
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("cli", "py"))
    for key in ("timings_ms",):
        a.pop(key), b.pop(key)
    assert a == b


def test_study_errors_name_the_dataframe():
    df = _table(50)
    with pytest.raises(ValueError, match="above the number of rows|outside|rows"):
        archetype.study(df, k=80)
    with pytest.raises(ValueError, match="k_range"):
        archetype.study(df, k_range=[2, 5])
    bad = df.copy()
    bad["followers"] = bad["followers"].astype(object)
    bad.loc[3, "followers"] = "n/a"
    with pytest.raises(ValueError, match="DataFrame"):
        archetype.study(bad, k=3, columns=["followers", "posts_per_week"])
