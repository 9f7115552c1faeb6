"""scikit-learn when it is importable, NumPy-only stand-ins when it is not.

Everything the estimator and the metrics take from scikit-learn goes
through this module: the base classes, input validation (scikit-learn's own
``check_array``, so that error messages are its words), ``check_random_state``,
``check_is_fitted`` and the sample-weight check.  Without scikit-learn the
stand-ins below raise the same ``ValueError`` messages for the documented
cases (NaN or infinity, 1-D or scalar input, no samples, no features, a
different number of features than at fit), and ``KMeans`` still has
``get_params``/``set_params``, ``fit_predict`` and ``fit_transform``.
"""
import inspect
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
    from sklearn.exceptions import ConvergenceWarning, NotFittedError
    from sklearn.utils import check_array as _sk_check_array
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, check_non_negative

    HAVE_SKLEARN = True
except ImportError:  # NumPy only
    HAVE_SKLEARN = False

FLOAT_DTYPES = (np.float64, np.float32)


def _array_text(array):
    return np.array2string(np.asarray(array), threshold=50)


if not HAVE_SKLEARN:

    class ConvergenceWarning(UserWarning):
        """A fit that did not find n_clusters distinct clusters (scikit-learn's name)."""

    class NotFittedError(ValueError, AttributeError):
        """The estimator is used before fit (scikit-learn's name and bases)."""

    class BaseEstimator:
        """get_params/set_params from the constructor's signature, as scikit-learn's."""

        @classmethod
        def _get_param_names(cls):
            params = inspect.signature(cls.__init__).parameters.values()
            return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(
                        f"Invalid parameter {key!r} for estimator {self}. "
                        f"Valid parameters are: {valid!r}."
                    )
                setattr(self, key, value)
            return self

        def __repr__(self):
            defaults = {
                p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
            }
            changed = [
                f"{k}={v!r}"
                for k, v in self.get_params().items()
                if not (v is defaults.get(k) or (isinstance(v, (str, int, float)) and v == defaults.get(k)))
            ]
            return f"{type(self).__name__}({', '.join(changed)})"

    class ClusterMixin:
        _estimator_type = "clusterer"

    class TransformerMixin:
        pass

    def check_random_state(seed):
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        if isinstance(seed, np.random.RandomState):
            return seed
        raise ValueError("%r cannot be used to seed a numpy.random.RandomState instance" % seed)

    def check_is_fitted(estimator, attributes=None):
        if not [v for v in vars(estimator) if v.endswith("_") and not v.startswith("__")]:
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def check_non_negative(X, whom):
        if np.asarray(X).size and np.min(X) < 0:
            raise ValueError("Negative values in data passed to %s" % whom)

    def _check_sample_weight(sample_weight, X, dtype=None):
        n_samples = X.shape[0]
        dtype = np.float64 if dtype is None else dtype
        if sample_weight is None:
            return np.ones(n_samples, dtype=dtype)
        if isinstance(sample_weight, numbers.Number):
            return np.full(n_samples, sample_weight, dtype=dtype)
        sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        if sample_weight.ndim != 1:
            raise ValueError("Sample weights must be 1D array or scalar")
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                "sample_weight.shape == {}, expected {}!".format(sample_weight.shape, (n_samples,))
            )
        if not np.isfinite(sample_weight).all():
            raise ValueError("Input sample_weight contains NaN or infinity.")
        return sample_weight


def _check_array_numpy(X, estimator_name, input_name, ensure_2d):
    """check_array(X, dtype=[float64, float32]) without scikit-learn: the same messages."""
    context = f" by {estimator_name}" if estimator_name else ""
    if hasattr(X, "to_numpy") and hasattr(X, "dtypes"):  # a pandas DataFrame
        X = X.to_numpy()
    array = np.asarray(X)
    if np.iscomplexobj(array):
        raise ValueError("Complex data not supported\n{}\n".format(array))
    if array.dtype not in FLOAT_DTYPES:
        if array.dtype.kind in "USV":
            raise ValueError(
                "dtype='numeric' is not compatible with arrays of bytes/strings."
                "Convert your data to numeric values explicitly instead."
            )
        array = array.astype(np.float64)
    if ensure_2d:
        if array.ndim == 0:
            raise ValueError(
                "Expected 2D array, got scalar array instead:\narray={}.\n"
                "Reshape your data either using array.reshape(-1, 1) if "
                "your data has a single feature or array.reshape(1, -1) "
                "if it contains a single sample.".format(array)
            )
        if array.ndim == 1:
            raise ValueError(
                "Expected 2D array, got 1D array instead:\narray={}.\n"
                "Reshape your data either using array.reshape(-1, 1) if "
                "your data has a single feature or array.reshape(1, -1) "
                "if it contains a single sample.".format(_array_text(array))
            )
        if array.ndim >= 3:
            raise ValueError("Found array with dim %d. %s expected <= 2." % (array.ndim, estimator_name))
    if not np.isfinite(array).all():
        padded = input_name + " " if input_name else ""
        if np.isnan(array).any():
            raise ValueError(f"Input {padded}contains NaN.")
        raise ValueError(f"Input {padded}contains infinity or a value too large for {array.dtype!r}.")
    n_samples = array.shape[0] if array.ndim else 0
    if n_samples < 1:
        raise ValueError(
            "Found array with %d sample(s) (shape=%s) while a minimum of %d is required%s."
            % (n_samples, array.shape, 1, context)
        )
    if array.ndim == 2 and array.shape[1] < 1:
        raise ValueError(
            "Found array with %d feature(s) (shape=%s) while a minimum of %d is required%s."
            % (array.shape[1], array.shape, 1, context)
        )
    return array


def check_array(X, estimator_name=None, input_name="X", ensure_2d=True):
    """X as a float32 or float64 NumPy array, any memory layout (never copied when
    it already is one), validated as scikit-learn's check_array does."""
    if HAVE_SKLEARN:
        return _sk_check_array(
            X,
            dtype=list(FLOAT_DTYPES),
            order=None,
            copy=False,
            estimator=estimator_name,
            input_name=input_name,
            ensure_2d=ensure_2d,
        )
    return _check_array_numpy(X, estimator_name, input_name, ensure_2d)


def _feature_names(X):
    """A DataFrame's column names when they are all strings, as scikit-learn keeps them."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "dtypes"):
        return None
    names = np.asarray(columns, dtype=object)
    if len(names) and all(isinstance(n, str) for n in names):
        return names
    return None


def validate_data(estimator, X, reset):
    """The estimator's X: validated, n_features_in_ and feature_names_in_ set
    (reset=True, at fit) or checked against them (reset=False)."""
    if HAVE_SKLEARN:
        return estimator._validate_data(
            X, reset=reset, dtype=list(FLOAT_DTYPES), order=None, copy=False, accept_sparse=False
        )
    names = _feature_names(X)
    name = type(estimator).__name__
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    else:
        fitted = getattr(estimator, "feature_names_in_", None)
        if fitted is not None and names is not None and (
            len(fitted) != len(names) or np.any(fitted != names)
        ):
            raise ValueError("The feature names should match those that were passed during fit.")
    array = _check_array_numpy(X, name, "X", True)
    if reset:
        estimator.n_features_in_ = array.shape[1]
    elif array.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {array.shape[1]} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return array


def check_labels(X, labels):
    """(X, labels) as scikit-learn's check_X_y(X, labels) gives them to its
    cluster metrics: X 2-D and finite, labels 1-D of the same length."""
    if HAVE_SKLEARN:
        from sklearn.utils import check_X_y

        X, labels = check_X_y(X, labels, dtype=list(FLOAT_DTYPES))
        return X, labels
    X = _check_array_numpy(X, None, "X", True)
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels.ravel()
    if labels.ndim != 1:
        raise ValueError(
            "y should be a 1d array, got an array of shape {} instead.".format(labels.shape)
        )
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: %r"
            % [X.shape[0], labels.shape[0]]
        )
    return X, labels
