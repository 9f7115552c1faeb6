"""archetype.KMeans: scikit-learn's KMeans interface on Archetype's engine."""
import warnings

import numpy as np

from . import _archetype
from ._compat import (
    BaseEstimator,
    ClusterMixin,
    ConvergenceWarning,
    TransformerMixin,
    _check_sample_weight,
    check_is_fitted,
    check_non_negative,
    validate_data,
)
from ._params import check_int, check_option, engine_params, kmeans_params, seed_of


class KMeans(TransformerMixin, ClusterMixin, BaseEstimator):
    """K-Means clustering on Archetype's engine (CPU with OpenMP, or CUDA).

    The parameters and their defaults are scikit-learn 1.2's ``KMeans``
    where the concept exists; ``backend``, ``n_threads`` and ``device`` are
    Archetype's.  The results are the same bits on every backend and thread
    count (the engine sums exactly); they are not scikit-learn's bits, but
    the same algorithm: greedy k-means++ (2 + floor(ln k) candidates per
    centre), Lloyd iterations, scikit-learn's convergence tests and
    empty-cluster relocation, the best inertia of ``n_init`` runs.

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters.
    init : {'k-means++'}, default='k-means++'
        Only greedy k-means++ is implemented; 'random', arrays and callables
        raise ValueError.
    n_init : int or 'auto', default=10
        Runs from different seeds (fused: they share every pass over the
        data); the lowest inertia wins.  10 is scikit-learn 1.2's value
        (without its FutureWarning about 1.4's 'auto'); 'auto' means 1, as
        scikit-learn 1.4 does for k-means++.
    max_iter : int, default=300
        Lloyd iterations per run at most.
    tol : float, default=1e-4
        Relative tolerance, exactly scikit-learn's: a run stops when the
        summed squared centre shift is at most ``tol`` times the mean over
        features of the data's variance (the variance computed in double
        from the float32 values the engine reads), or when the labels no
        longer change.
    verbose : int, default=0
        When positive, one line per run after the fit (seed, inertia,
        iterations, converged).
    random_state : int, RandomState instance or None, default=None
        An int is the engine's seed (run r uses seed + r): the same int, the
        same result.  None or a RandomState draws an int seed from that
        generator.
    copy_x : bool, default=True
        Accepted for compatibility.  Archetype never modifies X: float32 and
        float64 arrays of any memory layout are read where they are.
    algorithm : {'lloyd', 'elkan', 'auto', 'full'}, default='lloyd'
        All run the engine's Lloyd iterations (its CPU backend skips rows
        with exact Hamerly bounds, which changes no result); 'elkan' gives
        the same clustering in exact arithmetic, so it is accepted.
    backend : {'auto', 'cpu', 'cuda'}, default='auto'
        'auto' uses the GPU when this build has CUDA and a device is usable,
        else the CPU (an archetype.NoticeWarning says why, when a GPU was
        expected).
    n_threads : int or None, default=None
        CPU threads; None: OpenMP's default (OMP_NUM_THREADS or every core).
    device : int, default=0
        CUDA device ordinal.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        In the dtype of X (float32 or float64).
    labels_ : ndarray of shape (n_samples,), int32
    inertia_ : float
        Sum of (weighted) squared distances of the samples to their centre.
    n_iter_ : int
        Lloyd iterations of the best run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X was a DataFrame with string column names.

    Notes
    -----
    The engine computes in float32 (float64 input is rounded once, in a
    copy) with exact integer sums for centroids and inertia; the centroid
    sums quantize each value to max|X| * 2**-23, so features on scales many
    orders of magnitude below the largest one lose precision: standardize
    such data first.
    """

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init=10,
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        copy_x=True,
        algorithm="lloyd",
        backend="auto",
        n_threads=None,
        device=0,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.backend = backend
        self.n_threads = n_threads
        self.device = device

    # -- parameters ---------------------------------------------------------

    def _checked_params(self):
        name = type(self).__name__
        if not (isinstance(self.init, str) and self.init == "k-means++"):
            if isinstance(self.init, str) and self.init == "random" or callable(self.init) or hasattr(
                self.init, "__array__"
            ) or isinstance(self.init, (list, tuple)):
                raise ValueError(
                    f"init={self.init!r} is not supported: {name} seeds with greedy k-means++ only "
                    "(init='k-means++')"
                )
            check_option(name, "init", self.init, ("k-means++",))
        check_int(name, "verbose", self.verbose, 0)
        if not isinstance(self.copy_x, (bool, np.bool_)):
            raise ValueError(f"The 'copy_x' parameter of {name} must be an instance of 'bool'. Got {self.copy_x!r} instead.")
        check_option(name, "algorithm", self.algorithm, ("lloyd", "elkan", "auto", "full"))
        return {
            "n_clusters": check_int(name, "n_clusters", self.n_clusters, 1),
            **kmeans_params(name, self.n_init, self.max_iter, self.tol),
        }

    def _engine(self):
        return engine_params(type(self).__name__, self.backend, self.n_threads, self.device)

    # -- fitting ------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        X : array-like of shape (n_samples, n_features), float32 or float64
            (other numbers are converted to float64).  A C-contiguous float32
            array is read in place; any other float array is read once into
            the engine's float32 copy (never copied in Python).
        y : ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights w give the result of
            repeating each row w times.
        """
        params = self._checked_params()
        engine = self._engine()
        X = validate_data(self, X, reset=True)
        if X.shape[0] < params["n_clusters"]:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={params['n_clusters']}.")
        weights = self._weights(sample_weight, X)
        seed = seed_of(self.random_state)
        r = _archetype.kmeans_fit(X, weights, seed=seed, **params, **engine)
        if self.verbose:
            for i, run in enumerate(r["runs"]):
                print(
                    f"Run {i}: seed {run['seed']}, inertia {run['inertia']:.6g}, "
                    f"{run['n_iter']} iterations, {'converged' if run['converged'] else 'max_iter reached'}"
                )
        distinct = int(np.count_nonzero(r["counts"]))
        if distinct < params["n_clusters"]:
            warnings.warn(
                "Number of distinct clusters ({}) found smaller than n_clusters ({}). Possibly due to "
                "duplicate points in X.".format(distinct, params["n_clusters"]),
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = r["centers"].astype(X.dtype, copy=False)
        self._n_features_out = self.cluster_centers_.shape[0]
        self.labels_ = r["labels"]
        self.inertia_ = float(r["inertia"])
        self.n_iter_ = int(r["n_iter"])
        self._backend = r["backend"]
        return self

    @staticmethod
    def _weights(sample_weight, X):
        """None (every row weighs 1: the engine's unweighted path) or a
        C-contiguous float64 array of non-negative finite weights."""
        if sample_weight is None:
            return None
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        check_non_negative(w, "`sample_weight`")
        return np.ascontiguousarray(w, dtype=np.float64)

    def fit_predict(self, X, y=None, sample_weight=None):
        """fit(X), then labels_."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """fit(X), then transform(X)."""
        return self.fit(X, sample_weight=sample_weight)._transform(self._validated(X))

    # -- using the centres --------------------------------------------------

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False)

    def _centers64(self):
        return np.ascontiguousarray(self.cluster_centers_, dtype=np.float64)

    def predict(self, X, sample_weight=None):
        """The closest cluster of each sample (ties: the lowest index).
        sample_weight is accepted for scikit-learn 1.2's signature; labels do
        not depend on it."""
        X = self._validated(X)
        engine = self._engine()
        labels, _ = _archetype.kmeans_predict(X, None, self._centers64(), **engine)
        return labels

    def transform(self, X):
        """Distances to every cluster centre, shape (n_samples, n_clusters),
        in the dtype of X."""
        return self._transform(self._validated(X))

    def _transform(self, X):
        d = _archetype.kmeans_transform(X, self._centers64(), self._engine()["threads"])
        return d.astype(X.dtype, copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) sum of squared distances of X's samples
        to their closest centre: scikit-learn's KMeans.score."""
        X = self._validated(X)
        weights = self._weights(sample_weight, X)
        _, inertia = _archetype.kmeans_predict(X, weights, self._centers64(), **self._engine())
        return -float(inertia)

    def get_feature_names_out(self, input_features=None):
        """Output names of transform: kmeans0, kmeans1, ... (scikit-learn's)."""
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self._n_features_out)], dtype=object)

    def _more_tags(self):
        return {
            "_xfail_checks": {
                # As scikit-learn's own KMeans.  Zero weights do remove rows
                # here, but the check also shuffles the rows: k-means++ then
                # draws other rows, giving the same partition with other
                # cluster numbers (tests/python/test_estimator_checks.py runs
                # both kinds of this check itself).
                "check_sample_weights_invariance": "zero sample_weight is not equivalent to removing samples",
            },
        }
