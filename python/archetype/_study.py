"""archetype.study: the study of ``archetype run`` from Python.

The study is the CLI's own code path (run_pipeline in src/cli/pipeline.cpp,
called through the binding): the same table reader, profile, sweep, fit,
personas and output files; nothing of it is re-implemented here.  This
module only maps arguments (as the CLI's main.cpp maps options) and hands
inputs to the reader as files: a DataFrame as a temporary CSV, a NumPy array
as a temporary .npy (docs/PYTHON.md, "study").
"""
import contextlib
import dataclasses
import os
import tempfile

import numpy as np

from . import _archetype
from ._params import check_int, check_option, engine_params, k_bounds, kmeans_params, seed_of

_SHARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "share")


@dataclasses.dataclass(frozen=True)
class Study:
    """What ``archetype.study`` returns.

    Attributes
    ----------
    result : archetype.StudyResult
        Every number ``summary.json`` holds, typed: input, profile, scaler,
        sweep, suggested_k, parameters, model (clusters, personas,
        stability), warnings, timings_ms.
    labels : ndarray of int32
        The final model's cluster of every row kept (``labels.npy``).
    ids : list of str
        The rows' ids, as in ``labels.csv`` (the id column, the DataFrame's
        index, or the 0-based row numbers).
    table : str
        The terminal tables of ``archetype run``.
    files : list of str
        Files written into ``out`` (empty when out was None).
    """

    result: object
    labels: np.ndarray
    ids: list
    table: str
    files: list

    @property
    def k(self):
        """The final model's k."""
        return self.result.model.k

    @property
    def personas(self):
        """The persona name of each cluster, by cluster id."""
        return [c.persona.name for c in self.result.model.clusters]

    def _frame(self, rows):
        try:
            import pandas as pd
        except ImportError:
            return {key: np.asarray([r[key] for r in rows]) for key in (rows[0] if rows else {})}
        return pd.DataFrame(rows)

    @property
    def sweep(self):
        """One row per k: k, inertia, silhouette, calinski_harabasz,
        davies_bouldin, n_iter (a DataFrame, or a dict without pandas)."""
        nan = float("nan")
        return self._frame(
            [
                {
                    "k": r.k,
                    "inertia": r.wcss,
                    "silhouette": nan if r.silhouette is None else r.silhouette,
                    "calinski_harabasz": nan if r.calinski_harabasz is None else r.calinski_harabasz,
                    "davies_bouldin": nan if r.davies_bouldin is None else r.davies_bouldin,
                    "n_iter": r.n_iter,
                }
                for r in (self.result.sweep or [])
            ]
        )

    @property
    def profile(self):
        """One row per feature: name, mean, std, skew, kurtosis, min, max."""
        return self._frame(
            [
                {
                    "feature": f.name,
                    "mean": f.stats.mean,
                    "std": f.stats.std,
                    "skew": f.stats.skew,
                    "kurtosis": f.stats.kurtosis,
                    "min": f.stats.min,
                    "max": f.stats.max,
                }
                for f in self.result.profile
            ]
        )

    @property
    def clusters(self):
        """One row per cluster: persona, size, share, silhouette and the
        centroid in the input's units (one column per feature)."""
        names = self.result.input.feature_names
        rows = []
        for c in self.result.model.clusters:
            row = {"persona": c.persona.name, "size": c.size, "share": c.share,
                   "silhouette": float("nan") if c.silhouette is None else c.silhouette}
            row.update(zip(names, c.centroid))
            rows.append(row)
        return self._frame(rows)

    def __str__(self):
        return self.table


@contextlib.contextmanager
def _shared_files():
    """ARCHETYPE_DATA_DIR / ARCHETYPE_SCRIPTS_DIR at the package's copies of
    the persona catalog, the reference dataset and the figure script, for
    the call (unless the environment sets them): an installed package does
    not depend on the source tree."""
    saved = {}
    for var, sub in (("ARCHETYPE_DATA_DIR", "data"), ("ARCHETYPE_SCRIPTS_DIR", "scripts")):
        path = os.path.join(_SHARE, sub)
        if not os.environ.get(var) and os.path.isdir(path):
            saved[var] = os.environ.get(var)
            os.environ[var] = path
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _input_file(data, tmp, id_column):
    """(path for the reader, id column, display name of a temporary input)."""
    if data is None:
        return "", id_column, None
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data), id_column, None
    if hasattr(data, "to_csv") and hasattr(data, "columns"):  # a pandas DataFrame
        path = os.path.join(tmp, "dataframe.csv")
        index = data.index
        default_index = index.name is None and getattr(index, "dtype", None) is not None and (
            type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1
        )
        if default_index:
            data.to_csv(path, index=False)
        else:
            label = index.name if index.name is not None else "id"
            data.to_csv(path, index=True, index_label=label)
            id_column = id_column or str(label)
        return path, id_column, "DataFrame"
    array = np.asarray(data)
    if array.ndim != 2 or array.dtype not in (np.float32, np.float64):
        array = np.asarray(array, dtype=np.float64)
    path = os.path.join(tmp, "array.npy")
    np.save(path, np.ascontiguousarray(array))
    return path, id_column, "array"


def study(
    data=None,
    *,
    k=None,
    k_range=range(2, 11),
    columns=None,
    id_column=None,
    feature_names=None,
    delimiter=None,
    drop_invalid=False,
    transform=None,
    n_init=10,
    max_iter=300,
    tol=1e-4,
    random_state=42,
    silhouette="auto",
    silhouette_sample_size=None,
    silhouette_threshold=50000,
    personas=None,
    keep_columns=False,
    out=None,
    force=False,
    figures=None,
    backend="auto",
    n_threads=None,
    device=0,
):
    """Run the study of ``archetype run`` and return it as a :class:`Study`.

    Parameters (each is the CLI option of the same name)
    ----------
    data : None, path, pandas.DataFrame or 2-D array
        None: the reference dataset.  A path: a CSV or .npy file, read by
        the CLI's reader.  A DataFrame is written to a temporary CSV
        (``dataframe.csv``; a non-default index becomes its id column); an
        array to a temporary ``.npy``.  Text columns are skipped, as the CLI
        does.
    k : None, 'auto' or int
        'auto': the highest silhouette of the sweep.  None: as ``archetype
        run`` without --k ('auto' on your data, 5 on the reference dataset).
    k_range : consecutive ints, default=range(2, 11)
        The sweep's k (--k-min, --k-max).
    columns, id_column, feature_names, delimiter (',', ';' or '\\t'),
    drop_invalid, transform ('log1p' or 'COLUMN=log1p,...'), n_init,
    max_iter, tol, silhouette ('auto' or 'exact'), silhouette_sample_size,
    silhouette_threshold, personas (a catalog path), keep_columns :
        As the CLI's options.
    random_state : int, default=42
        --seed (42 is the CLI's default, so the default study is the CLI's).
    out : None or path
        Where to write the outputs of ``archetype run`` (report.html,
        report.md, labels.csv, labels.npy, model.json, summary.json,
        sweep.csv, figures/).  None: nothing is kept (the study runs in a
        temporary folder, without figures).
    force : bool
        Overwrite Archetype's own files in an existing ``out``.
    figures : None or bool
        Draw the figures (matplotlib, in a child process); None: when out
        is given.
    backend, n_threads, device : as for archetype.KMeans.
    """
    name = "study"
    if k is None:
        k_value, k_source = (0, "auto") if data is not None else (5, "reference")
    elif isinstance(k, str) and k == "auto":
        k_value, k_source = 0, "auto"
    else:
        k_value, k_source = check_int(name, "k", k, 1), "given"
    k_min, k_max = k_bounds(k_range)
    silhouette = check_option(name, "silhouette", silhouette, ("auto", "exact"))
    delimiters = {None: "\0", ",": ",", ";": ";", "\t": "\t", "comma": ",", "semicolon": ";", "tab": "\t"}
    if delimiter not in delimiters:
        raise ValueError(f"delimiter must be ',', ';' or '\\t', not {delimiter!r}")
    if figures is None:
        figures = out is not None
    options = dict(
        columns=[str(c) for c in (columns or [])],
        drop_invalid=bool(drop_invalid),
        feature_names=list(feature_names or []),
        transform=transform or "",
        delimiter=delimiters[delimiter],
        k=k_value,
        k_source=k_source,
        k_min=k_min,
        k_max=k_max,
        seed=seed_of(random_state),
        silhouette=silhouette,
        silhouette_sample=0 if silhouette_sample_size is None else check_int(
            name, "silhouette_sample_size", silhouette_sample_size, 1),
        silhouette_threshold=check_int(name, "silhouette_threshold", silhouette_threshold, 1),
        personas=os.fspath(personas) if personas is not None else "",
        keep_columns=bool(keep_columns),
        force=bool(force),
        figures=bool(figures),
        **kmeans_params(name, n_init, max_iter, tol),
        **engine_params(name, backend, n_threads, device),
    )
    with tempfile.TemporaryDirectory(prefix="archetype-study-") as tmp, _shared_files():
        path, ids_from, shown = _input_file(data, tmp, id_column)
        target = os.fspath(out) if out is not None else os.path.join(tmp, "out")
        try:
            result, labels, ids, table, files = _archetype.run_study(
                input=path, id_column=ids_from or "", out=target, **options)
        except ValueError as e:
            if shown is None:
                raise
            raise ValueError(str(e).replace(path, shown)) from None
    if shown is not None:
        table = table.replace(path, shown)
    return Study(result=result, labels=labels, ids=list(ids), table=table,
                 files=list(files) if out is not None else [])
