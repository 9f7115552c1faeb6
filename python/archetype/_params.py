"""Checks of constructor and function parameters, with scikit-learn 1.2's
wording ("The 'n_clusters' parameter of KMeans must be an int in the range
[1, inf). Got 0 instead.") and exception type (a ValueError that is also a
TypeError, as scikit-learn's InvalidParameterError), and the mapping of
random_state onto the engine's 64-bit seed."""
import numbers

import numpy as np

from ._compat import check_random_state


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value (scikit-learn's InvalidParameterError)."""


def _fail(owner, name, expected, value):
    raise InvalidParameterError(f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead.")


def check_int(owner, name, value, low, high=None, allow=()):
    if isinstance(value, str) and value in allow:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low or (
        high is not None and value > high
    ):
        upper = "inf)" if high is None else f"{high}]"
        text = f"an int in the range [{low}, {upper}"
        if allow:
            text += " or a str among " + "{" + ", ".join(repr(a) for a in allow) + "}"
        _fail(owner, name, text, value)
    return int(value)


def check_float(owner, name, value, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not value >= low:
        _fail(owner, name, f"a float in the range [{low}, inf)", value)
    return float(value)


def check_option(owner, name, value, options):
    if not isinstance(value, str) or value not in options:
        _fail(owner, name, "a str among {" + ", ".join(repr(o) for o in options) + "}", value)
    return value


def check_threads(owner, value):
    """n_threads: None (OpenMP's default: OMP_NUM_THREADS or every core) or 1..1024."""
    if value is None:
        return 0
    return check_int(owner, "n_threads", value, 1, 1024)


def seed_of(random_state):
    """The engine's seed: an int random_state is the seed itself (any int in
    [0, 2**64 - 1]); None or a RandomState draws one from that generator
    (as scikit-learn draws its own seeds), so it advances the generator."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        if not 0 <= random_state < 2**64:
            raise ValueError(f"random_state must be in [0, 2**64 - 1], got {random_state}")
        return int(random_state)
    rng = check_random_state(random_state)
    return int(rng.randint(np.iinfo(np.int32).max))


def engine_params(owner, backend, n_threads, device):
    """backend, threads and device as the binding takes them."""
    return {
        "backend": check_option(owner, "backend", backend, ("auto", "cpu", "cuda")),
        "threads": check_threads(owner, n_threads),
        "device": check_int(owner, "device", device, 0),
    }


def kmeans_params(owner, n_init, max_iter, tol):
    """n_init ('auto': 1, as scikit-learn 1.4 for k-means++), max_iter, tol."""
    n_init = check_int(owner, "n_init", n_init, 1, allow=("auto",))
    return {
        "n_init": 1 if n_init == "auto" else n_init,
        "max_iter": check_int(owner, "max_iter", max_iter, 1),
        "tol": check_float(owner, "tol", tol, 0.0),
    }


def k_bounds(k_range):
    """(k_min, k_max) of consecutive increasing ints from 1 up (range(2, 11))."""
    ks = list(k_range)
    if (
        not ks
        or not all(isinstance(k, numbers.Integral) and not isinstance(k, (bool, np.bool_)) for k in ks)
        or ks != list(range(ks[0], ks[0] + len(ks)))
        or ks[0] < 1
    ):
        raise ValueError(
            f"k_range must be consecutive increasing ints from 1 up, e.g. range(2, 11); got {k_range!r}"
        )
    return int(ks[0]), int(ks[-1])
