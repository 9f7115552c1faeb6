"""archetype.KMeans passes scikit-learn's check_estimator (1.2.1), every
check run: a check that is skipped (SkipTestWarning, e.g. through an
_xfail_checks tag) fails this test unless it is listed here with its reason."""
import warnings

import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import SkipTestWarning  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import archetype  # noqa: E402

ALLOWED_SKIPS = {}  # check name -> one-line reason


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
