"""archetype.KMeans's interface: dtypes, memory layouts, pickling,
DataFrame feature names, parameters, random_state, errors (scikit-learn's
wording), and the same behaviour without scikit-learn."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import archetype
from conftest import blobs


def fit(X, sample_weight=None, **kw):
    kw.setdefault("n_clusters", 4)
    kw.setdefault("random_state", 0)
    kw.setdefault("n_threads", 2)
    return archetype.KMeans(**kw).fit(X, sample_weight=sample_weight)


def test_default_parameters_are_sklearn_1_2s():
    p = archetype.KMeans().get_params()
    assert p == {
        "n_clusters": 8, "init": "k-means++", "n_init": 10, "max_iter": 300, "tol": 1e-4, "verbose": 0,
        "random_state": None, "copy_x": True, "algorithm": "lloyd", "backend": "auto", "n_threads": None,
        "device": 0,
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centres_and_transform_in_the_dtype_of_x(small_blobs, dtype):
    X = small_blobs[0].astype(dtype)
    km = fit(X)
    assert km.cluster_centers_.dtype == dtype and km.cluster_centers_.shape == (4, 3)
    assert km.transform(X).dtype == dtype and km.transform(X).shape == (600, 4)
    assert km.labels_.dtype == np.int32 and km.labels_.shape == (600,)
    assert isinstance(km.inertia_, float) and isinstance(km.n_iter_, int) and km.n_iter_ >= 1
    assert km.n_features_in_ == 3


def test_integers_are_read_as_float64():
    X = (np.arange(40).reshape(20, 2) % 7).astype(np.int64)
    assert fit(X, n_clusters=3).cluster_centers_.dtype == np.float64


def test_fit_predict_transform_score_agree(small_blobs):
    X = small_blobs[0]
    km = fit(X)
    assert np.array_equal(km.predict(X), km.labels_)
    assert np.array_equal(archetype.KMeans(n_clusters=4, random_state=0).fit_predict(X), km.labels_)
    d = km.transform(X)
    assert np.array_equal(d.argmin(axis=1), km.labels_)
    assert np.allclose(archetype.KMeans(n_clusters=4, random_state=0).fit_transform(X), d)
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-6)


def test_any_memory_layout_gives_the_same_result(small_blobs):
    X = small_blobs[0]
    ref = fit(X)
    wide64 = np.zeros((600, 7), dtype=np.float64)
    wide64[:, 1:7:2] = X
    layouts = {
        "fortran": np.asfortranarray(X),
        "float64": X.astype(np.float64),
        "strided columns": wide64[:, 1:7:2],
        "negative row stride": X[::-1].copy()[::-1],
        "every other row twice": np.repeat(X, 2, axis=0)[::2],
        "read-only": np.frombuffer(X.tobytes(), dtype=np.float32).reshape(X.shape),
    }
    for name, Y in layouts.items():
        km = fit(Y)
        assert np.array_equal(km.labels_, ref.labels_), name
        assert np.allclose(km.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-6), name
        assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12), name


def test_c_contiguous_float32_is_read_in_place_and_the_rest_once():
    X = np.ones((1000, 3), dtype=np.float32)
    assert archetype._archetype._reads_in_place(X)
    assert archetype._archetype._reads_in_place(X[10:20])  # a C-contiguous slice
    assert not archetype._archetype._reads_in_place(X.astype(np.float64))
    assert not archetype._archetype._reads_in_place(np.asfortranarray(X))
    # The validation hands the engine the caller's array itself: no copy in Python.
    from archetype._compat import check_array

    for Y in (X, np.asfortranarray(X), X.astype(np.float64)[::2, 1:]):
        assert check_array(Y) is Y or np.shares_memory(check_array(Y), Y)


def test_x_is_never_modified_or_copied_into_python_objects(small_blobs):
    X = small_blobs[0]
    before = X.copy()
    km = fit(X, copy_x=False)
    assert np.array_equal(X, before)
    assert not any(isinstance(v, np.ndarray) and v.size == X.size for v in vars(km).values())


def test_pickle_round_trip(small_blobs):
    X = small_blobs[0]
    km = fit(X)
    again = pickle.loads(pickle.dumps(km))
    assert again.get_params() == km.get_params()
    for attr in ("cluster_centers_", "labels_"):
        assert np.array_equal(getattr(again, attr), getattr(km, attr))
    assert (again.inertia_, again.n_iter_, again.n_features_in_) == (km.inertia_, km.n_iter_, km.n_features_in_)
    assert np.array_equal(again.predict(X), km.predict(X))


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, _ = blobs(300, 3, 3, seed=2)
    df = pd.DataFrame(X, columns=["followers", "posts", "revenue"])
    km = fit(df, n_clusters=3)
    assert list(km.feature_names_in_) == ["followers", "posts", "revenue"]
    assert np.array_equal(km.predict(df), fit(X, n_clusters=3).labels_)
    assert list(km.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]
    with pytest.raises(ValueError, match="feature names"):
        km.predict(df[["posts", "followers", "revenue"]])
    assert not hasattr(fit(X, n_clusters=3), "feature_names_in_")


def test_random_state():
    X, _ = blobs(500, 2, 6, seed=4)
    a, b = fit(X, n_clusters=6, random_state=123), fit(X, n_clusters=6, random_state=123)
    assert np.array_equal(a.cluster_centers_, b.cluster_centers_)
    # A RandomState (or None) draws the seed from the generator: the same
    # generator state, the same seed.
    c = fit(X, n_clusters=6, random_state=np.random.RandomState(9))
    d = fit(X, n_clusters=6, random_state=np.random.RandomState(9))
    assert np.array_equal(c.cluster_centers_, d.cluster_centers_)
    big = fit(X, n_clusters=6, random_state=2**64 - 1)
    assert big.n_iter_ >= 1


def test_n_init_auto_is_one_run_and_verbose_reports_each_run(small_blobs, capsys):
    X = small_blobs[0]
    fit(X, n_init="auto", verbose=1)
    assert capsys.readouterr().out.count("Run ") == 1
    fit(X, n_init=3, verbose=1)
    assert capsys.readouterr().out.count("Run ") == 3


ERRORS = [
    (lambda: fit(np.array([[1.0, np.nan], [2.0, 3.0]]), n_clusters=1), "Input X contains NaN"),
    (lambda: fit(np.array([[1.0, np.inf], [2.0, 3.0]]), n_clusters=1), "Input X contains infinity"),
    (lambda: fit(np.arange(5.0)), "Expected 2D array, got 1D array instead"),
    (lambda: fit(np.empty((0, 3))), r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1 is required"),
    (lambda: fit(np.empty((5, 0))), r"Found array with 0 feature\(s\)"),
    (lambda: fit(np.ones((3, 2)), n_clusters=4), r"n_samples=3 should be >= n_clusters=4\."),
    (lambda: fit(np.ones((3, 2)), n_clusters=0), "The 'n_clusters' parameter of KMeans must be an int in the range"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, tol=-1.0), "The 'tol' parameter"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, init="random"), "init='random' is not supported"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, backend="gpu"), "The 'backend' parameter"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, n_threads=0), "The 'n_threads' parameter"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, sample_weight=np.ones(4)), r"sample_weight.shape == \(4,\), expected \(3,\)!"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1, sample_weight=[1, -1, 1]), "Negative values in data passed to `sample_weight`"),
    (lambda: fit(np.ones((3, 2)), n_clusters=1).predict(np.ones((2, 3))), "X has 3 features, but KMeans is expecting 2 features"),
    (lambda: archetype.KMeans().predict(np.ones((2, 2))), "This KMeans instance is not fitted yet"),
]


@pytest.mark.parametrize("call,message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_errors_are_value_errors_with_sklearns_wording(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_engine_refuses_values_beyond_float32():
    with pytest.raises(ValueError, match=r"row 2, column 1: the value 1e\+300 is beyond the float32 range"):
        fit(np.array([[0.0, 1.0], [1e300, 2.0], [3.0, 4.0]]), n_clusters=2)


def test_without_sklearn_numpy_only():
    """The package imported where scikit-learn cannot be: the estimator
    works and raises the same messages."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # import sklearn raises ImportError
        import numpy as np, pickle, archetype
        from archetype import _compat
        assert not _compat.HAVE_SKLEARN
        rng = np.random.default_rng(0)
        X = np.concatenate([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))]).astype(np.float32)
        km = archetype.KMeans(n_clusters=2, random_state=0).fit(X)
        assert km.cluster_centers_.dtype == np.float32 and sorted(np.bincount(km.labels_)) == [50, 50]
        assert np.array_equal(km.predict(X), km.labels_) and km.transform(X).shape == (100, 2)
        assert pickle.loads(pickle.dumps(km)).get_params() == km.get_params()
        assert km.set_params(n_clusters=3).n_clusters == 3 and repr(km).startswith("KMeans(")
        assert archetype.silhouette_score(X, km.labels_) > 0.9
        for bad, msg in [(np.array([[np.nan, 1.0]]), "Input X contains NaN."),
                         (np.arange(3.0), "Expected 2D array, got 1D array instead"),
                         (np.empty((0, 2)), "Found array with 0 sample(s) (shape=(0, 2)) while a minimum of 1 is required by KMeans."),
                         (np.ones((1, 2)), "n_samples=1 should be >= n_clusters=2.")]:
            try:
                archetype.KMeans(n_clusters=2).fit(bad)
            except ValueError as e:
                assert msg in str(e), (msg, str(e))
            else:
                raise AssertionError(msg)
        try:
            archetype.KMeans(n_clusters=2).fit(X).predict(np.ones((2, 3)))
        except ValueError as e:
            assert "X has 3 features, but KMeans is expecting 2 features as input." in str(e)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
