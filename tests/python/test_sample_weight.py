"""sample_weight: integer weights w give exactly the fit of each row
repeated w times (the engine's contract: weighted k-means++, centroid sums,
inertia and empty-cluster relocation, all exact); unit weights are no
weights; the weights weigh score(); sklearn's weighted fit agrees."""
import numpy as np
import pytest

import archetype
from conftest import blobs


def _weighted_and_repeated(X, w, **kw):
    kw = {"n_clusters": 4, "n_init": 3, "random_state": 2, "n_threads": 2, **kw}
    weighted = archetype.KMeans(**kw).fit(X, sample_weight=w)
    repeated = archetype.KMeans(**kw).fit(np.repeat(X, w, axis=0))
    return weighted, repeated


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_integer_weights_equal_repeated_rows(dtype):
    X, _ = blobs(400, 3, 4, seed=12, dtype=dtype)
    w = np.random.default_rng(3).integers(1, 5, size=len(X))
    weighted, repeated = _weighted_and_repeated(X, w)
    assert np.array_equal(weighted.cluster_centers_, repeated.cluster_centers_)
    assert weighted.inertia_ == repeated.inertia_
    assert weighted.n_iter_ == repeated.n_iter_
    assert np.array_equal(np.repeat(weighted.labels_, w), repeated.labels_)


def test_zero_and_large_integer_weights_equal_repeated_rows():
    X, _ = blobs(300, 2, 3, seed=13)
    w = np.random.default_rng(4).integers(0, 40, size=len(X))
    w[:5] = 0
    weighted, repeated = _weighted_and_repeated(X, w, n_clusters=3)
    assert np.array_equal(weighted.cluster_centers_, repeated.cluster_centers_)
    assert weighted.inertia_ == repeated.inertia_
    kept = w > 0
    assert np.array_equal(np.repeat(weighted.labels_[kept], w[kept]), repeated.labels_)


def test_unit_weights_are_no_weights():
    X, _ = blobs(500, 2, 5, seed=14)
    a = archetype.KMeans(n_clusters=5, random_state=1).fit(X)
    b = archetype.KMeans(n_clusters=5, random_state=1).fit(X, sample_weight=np.ones(len(X)))
    c = archetype.KMeans(n_clusters=5, random_state=1).fit(X, sample_weight=1)
    for other in (b, c):
        assert np.array_equal(a.cluster_centers_, other.cluster_centers_)
        assert np.array_equal(a.labels_, other.labels_) and a.inertia_ == other.inertia_


def test_score_is_weighted():
    X, _ = blobs(200, 2, 3, seed=15)
    w = np.random.default_rng(5).integers(1, 4, size=len(X))
    km = archetype.KMeans(n_clusters=3, random_state=0).fit(X)
    assert km.score(X, sample_weight=w) == pytest.approx(km.score(np.repeat(X, w, axis=0)), rel=1e-9)


def test_weighted_fit_agrees_with_sklearns():
    pytest.importorskip("sklearn")
    from sklearn.cluster import KMeans as SKKMeans
    from sklearn.metrics import adjusted_rand_score

    from conftest import sklearn_fit

    X, _ = blobs(1000, 2, 4, seed=16, dtype=np.float64)
    w = np.random.default_rng(6).uniform(0.1, 3.0, size=len(X))
    ours = archetype.KMeans(n_clusters=4, random_state=0).fit(X, sample_weight=w)
    theirs = sklearn_fit(SKKMeans(n_clusters=4, n_init=10, random_state=0), X, sample_weight=w)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) > 0.99
    assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-5)
