"""archetype.sweep: every k of a range fitted in one fused batch and scored."""
from . import _archetype
from ._compat import check_array
from ._kmeans import KMeans
from ._params import check_int, engine_params, k_bounds, kmeans_params, seed_of

_COLUMNS = (
    "k",
    "inertia",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "n_iter",
    "silhouette_rows",
    "silhouette_ci_low",
    "silhouette_ci_high",
    "sizes",
)


def sweep(
    X,
    k_range=range(2, 11),
    *,
    n_init=10,
    max_iter=300,
    tol=1e-4,
    random_state=None,
    sample_weight=None,
    silhouette_sample_size="auto",
    backend="auto",
    n_threads=None,
    device=0,
):
    """Fit K-Means for every k in ``k_range`` and score each fit.

    All k and all restarts run as one fused batch (one pass over the data
    per Lloyd round for every live model); each k's result is exactly what
    ``KMeans(n_clusters=k, n_init=n_init, random_state=seed)`` gives.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k_range : iterable of consecutive ints, default=range(2, 11)
        k above n_samples are left out.
    n_init, max_iter, tol, random_state, sample_weight :
        As for archetype.KMeans (one seed for the whole sweep: each k uses it).
    silhouette_sample_size : 'auto', None or int, default='auto'
        'auto': exact up to 50,000 rows at 2 features (fewer at more
        features: the same work), a seeded sample of that many rows above,
        as ``archetype run``; None: exact at any size (O(n^2)); an int:
        a seeded sample of that many rows.
    backend, n_threads, device : as for archetype.KMeans.

    Returns
    -------
    pandas.DataFrame (a dict of NumPy arrays when pandas is not installed)
        One row per k: k, inertia, silhouette (NaN where undefined),
        calinski_harabasz, davies_bouldin, n_iter, silhouette_rows (rows the
        silhouette was evaluated on), silhouette_ci_low/high (a 95% interval
        when sampled, else the score), sizes (rows per cluster).  The
        suggested k are in ``df.attrs["elbow_k"]`` (the Kneedle knee of the
        inertia) and ``df.attrs["silhouette_k"]`` (the highest silhouette),
        or the dict's keys of those names; None when undefined.
    """
    name = "sweep"
    k_min, k_max = k_bounds(k_range)
    fit_params = kmeans_params(name, n_init, max_iter, tol)
    engine = engine_params(name, backend, n_threads, device)
    X = check_array(X, estimator_name=name)
    if silhouette_sample_size == "auto":
        sample = _archetype.silhouette_auto_sample(X.shape[0], X.shape[1])
    elif silhouette_sample_size is None:
        sample = 0
    else:
        sample = check_int(name, "silhouette_sample_size", silhouette_sample_size, 2)
        sample = sample if sample < X.shape[0] else 0
    weights = KMeans._weights(sample_weight, X)
    r = _archetype.sweep(
        X,
        weights,
        k_min=k_min,
        k_max=k_max,
        seed=seed_of(random_state),
        silhouette_sample=sample,
        **fit_params,
        **engine,
    )
    try:
        import pandas as pd
    except ImportError:
        return {key: r[key] for key in _COLUMNS + ("elbow_k", "silhouette_k")}
    df = pd.DataFrame({key: r[key] for key in _COLUMNS})
    df.attrs["elbow_k"] = r["elbow_k"]
    df.attrs["silhouette_k"] = r["silhouette_k"]
    return df
