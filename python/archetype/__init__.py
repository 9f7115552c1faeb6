"""Archetype from Python: K-Means, cluster metrics, the fused k sweep and the
creator study, on Archetype's engine (CPU with OpenMP, or CUDA).

    >>> import archetype
    >>> km = archetype.KMeans(n_clusters=5, random_state=0).fit(X)
    >>> archetype.silhouette_score(X, km.labels_)
    >>> archetype.sweep(X, range(2, 11))        # a DataFrame, one row per k
    >>> archetype.study(df)                     # the study of `archetype run`

``KMeans`` is a scikit-learn estimator when scikit-learn is installed (and
works without it: NumPy is the only dependency).  See README.md ("From
Python") and docs/PYTHON.md.
"""
from ._archetype import NoticeWarning, StudyResult, __version__
from ._kmeans import KMeans
from ._metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from ._params import InvalidParameterError
from ._study import Study, study
from ._sweep import sweep

__all__ = [
    "KMeans",
    "silhouette_score",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "sweep",
    "study",
    "Study",
    "StudyResult",
    "NoticeWarning",
    "InvalidParameterError",
    "__version__",
]
