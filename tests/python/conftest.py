"""Shared data for the Python package's tests (run by ctest with Debian's
/usr/bin/python3 and PYTHONPATH=<build>/python; label `python`)."""
import numpy as np
import pytest


def blobs(n, d, centers, seed, dtype=np.float32, spread=0.6):
    """n x d Gaussian blobs around `centers` random centres (generated data,
    not the reference dataset), and the true blob of each row."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, 4.0, size=(centers, d))
    truth = rng.integers(0, centers, size=n)
    X = mu[truth] + rng.normal(0.0, spread, size=(n, d))
    return X.astype(dtype), truth


@pytest.fixture
def small_blobs():
    return blobs(600, 3, 4, seed=7)


def sklearn_fit(estimator, X, **kw):
    """estimator.fit(X) on one thread: scikit-learn's OpenMP/BLAS threads
    spin when the (shared, 2-core) machine is busy; one thread is 10-20x
    faster there, and the tests compare results, not speed."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return estimator.fit(X, **kw)
