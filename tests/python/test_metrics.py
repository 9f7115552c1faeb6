"""archetype.silhouette_score, calinski_harabasz_score, davies_bouldin_score
against scikit-learn's on its bundled datasets and generated data.

Tolerance: the engine computes distances in float32 (float64 input is
rounded once) and sums exactly; scikit-learn computes in float64.  The
relative differences measured on these cases: 2e-9 to 3.6e-7 (the largest:
the silhouette of unstructured noise with four labels); asserted: 1e-6.
"""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn import datasets, metrics  # noqa: E402

import archetype  # noqa: E402
from conftest import blobs  # noqa: E402

RTOL = 1e-6


def _cases():
    for name, loader in (("iris", datasets.load_iris), ("wine", datasets.load_wine), ("digits", datasets.load_digits)):
        d = loader()
        yield name, d.data, d.target
    X, truth = blobs(2000, 4, 5, seed=8, dtype=np.float32)
    yield "blobs float32", X, truth
    rng = np.random.default_rng(1)
    yield "noise, string labels", rng.normal(size=(500, 3)), rng.choice(["a", "b", "c", "d"], size=500)


CASES = list(_cases())


@pytest.mark.parametrize("name,X,labels", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(
    "ours,theirs",
    [
        (archetype.silhouette_score, metrics.silhouette_score),
        (archetype.calinski_harabasz_score, metrics.calinski_harabasz_score),
        (archetype.davies_bouldin_score, metrics.davies_bouldin_score),
    ],
    ids=["silhouette", "calinski_harabasz", "davies_bouldin"],
)
def test_scores_match_sklearn(name, X, labels, ours, theirs):
    assert ours(X, labels) == pytest.approx(theirs(X, labels), rel=RTOL)


def test_scores_of_a_fit_match_sklearn():
    X = datasets.load_iris().data
    labels = archetype.KMeans(n_clusters=4, random_state=0).fit_predict(X)
    assert archetype.silhouette_score(X, labels) == pytest.approx(metrics.silhouette_score(X, labels), rel=RTOL)


def test_sampled_silhouette_draws_sklearns_sample():
    X, labels = datasets.load_digits(return_X_y=True)
    for seed in (0, 7):
        ours = archetype.silhouette_score(X, labels, sample_size=300, random_state=seed)
        theirs = metrics.silhouette_score(X, labels, sample_size=300, random_state=seed)
        assert ours == pytest.approx(theirs, rel=RTOL)
    assert archetype.silhouette_score(X, labels, sample_size=300, random_state=0) != pytest.approx(
        archetype.silhouette_score(X, labels, sample_size=300, random_state=7), rel=RTOL
    )


def test_singleton_clusters_score_zero_as_in_sklearn():
    X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [9.0, 0.0]])
    labels = [0, 0, 1, 2]
    assert archetype.silhouette_score(X, labels) == pytest.approx(metrics.silhouette_score(X, labels), rel=RTOL)


@pytest.mark.parametrize(
    "fn", [archetype.silhouette_score, archetype.calinski_harabasz_score, archetype.davies_bouldin_score]
)
def test_label_count_errors_are_sklearns(fn):
    X = np.arange(10.0).reshape(5, 2)
    msg = r"Number of labels is {}\. Valid values are 2 to n_samples - 1 \(inclusive\)"
    with pytest.raises(ValueError, match=msg.format(1)):
        fn(X, [3] * 5)
    with pytest.raises(ValueError, match=msg.format(5)):
        fn(X, list(range(5)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fn(X, [0, 1, 0])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fn(np.array([[np.nan, 1.0], [1.0, 2.0], [2.0, 3.0]]), [0, 1, 1])


def test_other_metrics_are_refused():
    X, labels = datasets.load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="metric='cosine' is not supported"):
        archetype.silhouette_score(X, labels, metric="cosine")
    with pytest.raises(ValueError, match="not supported"):
        archetype.silhouette_score(X, labels, metric="precomputed")
