"""archetype.KMeans passes scikit-learn's check_estimator (1.2.1), every
check run: a check that is skipped (SkipTestWarning, e.g. through an
_xfail_checks tag) fails this test unless it is listed here with its reason."""
import warnings

import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import SkipTestWarning  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import archetype  # noqa: E402

# check name -> one-line reason (the estimator's _xfail_checks tag)
ALLOWED_SKIPS = {
    "check_sample_weights_invariance": "the same partition, other cluster numbers: tested below instead",
}


def test_check_estimator_with_no_check_skipped():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_estimator(archetype.KMeans())
    skipped = [str(w.message) for w in caught if issubclass(w.category, SkipTestWarning)]
    unexplained = [s for s in skipped if not any(name in s for name in ALLOWED_SKIPS)]
    assert not unexplained, unexplained


def test_the_estimator_is_an_sklearn_clusterer_and_transformer():
    from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, clone

    km = archetype.KMeans(n_clusters=3, random_state=1, n_threads=2)
    assert isinstance(km, BaseEstimator) and isinstance(km, ClusterMixin) and isinstance(km, TransformerMixin)
    assert clone(km).get_params() == km.get_params()


def test_sample_weights_invariance_as_far_as_it_holds():
    """The check scikit-learn's KMeans and ours skip (see ALLOWED_SKIPS):
    unit weights are no weights exactly; zero weights on shuffled rows give
    the same partition and centres as the rows removed, numbered otherwise."""
    from functools import partial

    from sklearn.metrics import adjusted_rand_score
    from sklearn.utils import shuffle
    from sklearn.utils.estimator_checks import check_sample_weights_invariance
    import numpy as np

    check_sample_weights_invariance("KMeans", archetype.KMeans(), kind="ones")
    X1 = np.repeat(np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 3.0], [4.0, 1.0]]), 4, axis=0)
    X2 = np.vstack([X1, X1 + 1])
    sw2 = np.r_[np.ones(16), np.zeros(16)]
    X2, sw2 = shuffle(X2, sw2, random_state=0)
    a = archetype.KMeans(n_clusters=4, random_state=0).fit(X1)
    b = archetype.KMeans(n_clusters=4, random_state=0).fit(X2, sample_weight=sw2)
    assert adjusted_rand_score(a.predict(X1), b.predict(X1)) == 1.0
    order = lambda c: c[np.lexsort(c.T)]  # noqa: E731
    assert np.allclose(order(a.cluster_centers_), order(b.cluster_centers_))
    assert a.inertia_ == b.inertia_
