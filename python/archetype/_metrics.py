"""Cluster-quality metrics with scikit-learn's signatures, results and
errors, computed by Archetype's engine: archetype.silhouette_score,
calinski_harabasz_score and davies_bouldin_score.

The engine evaluates distances in float32 (float64 input is rounded once)
and sums exactly, so the scores agree with scikit-learn's float64 ones to
within about 4e-7 relative, not to the last bit (tests/python/test_metrics.py).
"""
import numpy as np

from . import _archetype
from ._compat import check_labels, check_random_state


def _encoded(X, labels):
    """X validated, labels as 0..n_labels-1 (int32, as LabelEncoder), n_labels;
    scikit-learn's error when the number of labels is not 2..n_samples-1."""
    X, labels = check_labels(X, labels)
    classes, encoded = np.unique(labels, return_inverse=True)
    n_labels, n_samples = len(classes), X.shape[0]
    if not 1 < n_labels < n_samples:
        raise ValueError(
            "Number of labels is %d. Valid values are 2 to n_samples - 1 (inclusive)" % n_labels
        )
    return X, np.ascontiguousarray(encoded, dtype=np.int32), n_labels


def silhouette_score(X, labels, *, metric="euclidean", sample_size=None, random_state=None, **kwds):
    """Mean Silhouette Coefficient of all samples (scikit-learn's silhouette_score).

    Only metric='euclidean' is supported (other metrics and extra keyword
    arguments raise ValueError).  With sample_size, the same rows as
    scikit-learn's are drawn (random_state.permutation(n)[:sample_size]), so
    a given random_state scores the same sample in both.
    """
    if metric != "euclidean":
        raise ValueError(
            f"metric={metric!r} is not supported: archetype.silhouette_score computes the "
            "Euclidean silhouette only (metric='euclidean')"
        )
    if kwds:
        raise ValueError(f"unsupported keyword arguments for metric='euclidean': {sorted(kwds)}")
    if sample_size is not None:
        X, labels = check_labels(X, labels)
        indices = check_random_state(random_state).permutation(X.shape[0])[:sample_size]
        X, labels = X[indices], labels[indices]
    X, encoded, k = _encoded(X, labels)
    return float(_archetype.silhouette_score(X, encoded, k))


def calinski_harabasz_score(X, labels):
    """Calinski-Harabasz score (scikit-learn's calinski_harabasz_score)."""
    X, encoded, k = _encoded(X, labels)
    return float(_archetype.dispersion_scores(X, encoded, k)[0])


def davies_bouldin_score(X, labels):
    """Davies-Bouldin score (scikit-learn's davies_bouldin_score)."""
    X, encoded, k = _encoded(X, labels)
    return float(_archetype.dispersion_scores(X, encoded, k)[1])
