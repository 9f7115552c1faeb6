#!/usr/bin/python3
"""Archetype figure generator.

Usage: /usr/bin/python3 scripts/figures.py OUT_DIR [--only NAME[,NAME]] [--dpi N] [--wait]

Reads the files that `archetype` wrote into OUT_DIR (summary.json and, when
the run fitted a model, figure_points.csv or figure_density.json and
figure_silhouette.csv) and writes OUT_DIR/figures/NAME.png and NAME.svg for

  distributions    histogram + density and normal QQ plot per feature
                   (the first 12)
  model_selection  WCSS / silhouette / Calinski-Harabasz / Davies-Bouldin vs k
  segmentation     creators coloured by persona with the cluster centres: in
                   original units for one or two features; for more, on the
                   first two principal components of the standardised data
                   (summary.json's "projection"; points as pc1,pc2,cluster)
  silhouette       per-cluster sorted silhouette bands
  persona_profile  deviation of each persona from the platform average, one
                   panel per feature (at most 12) on its own scale

With more than 30 clusters the figures name the 30 largest (legend, labels,
rows, bands) and count the rest: the segmentation still draws every point,
the silhouette figure pools the smaller clusters into one grey band.

stdout gets one line per file written (its path); notes about figures that
the run cannot support (no sweep, no model, no silhouette) go to stderr.
Exit status: 0 on success, 2 (one line on stderr, nothing written) when an
input is missing or malformed or the arguments are wrong, 1 when numpy or
matplotlib cannot be imported or a figure fails to draw (its traceback, then
one line naming it, on stderr; the other figures are still written).  The
inputs are all read and checked first, then the figures are drawn side by
side, one group per core, in processes forked from this one.  Each file is
written under a temporary name in the same folder and renamed into place,
so no half-written figure is ever left behind.

Only the standard library, numpy and matplotlib are used (Debian's
python3-numpy and python3-matplotlib; run with /usr/bin/python3).
"""

import argparse
import json
import math
import os
import sys

FIGURES = ("distributions", "model_selection", "segmentation", "silhouette", "persona_profile")
PROG = "figures.py"

# ---------------------------------------------------------------------------
# Colours: Okabe-Ito, with a fixed colour for each of the five known personas
# and the rest of the palette (then Paul Tol's "muted" set) for any others.
# ---------------------------------------------------------------------------
KNOWN_PERSONAS = ("The Power Stars", "Growth Engines", "Niche Experts",
                  "Steady Hobbyists", "Inactive/Casual")
PERSONA_COLOURS = {
    "The Power Stars": "#D55E00",   # vermillion
    "Growth Engines": "#009E73",    # bluish green
    "Niche Experts": "#CC79A7",     # reddish purple
    "Steady Hobbyists": "#0072B2",  # blue
    "Inactive/Casual": "#8C8C8C",   # neutral grey
}
OTHER_COLOURS = ("#E69F00", "#56B4E9", "#F0E442",                       # rest of Okabe-Ito
                 "#882255", "#44AA99", "#332288", "#DDCC77", "#117733",  # Paul Tol muted
                 "#88CCEE", "#AA4499", "#999933", "#CC6677")
HIGHLIGHT_COLOUR = "#E69F00"
INK = "#222222"


class InputError(Exception):
    """A missing or malformed input; reported in one line with exit status 2."""


# ---------------------------------------------------------------------------
# Validation helpers (every message names the file and the field).
# ---------------------------------------------------------------------------
def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num(v, where, null=False):
    if v is None and null:
        return None
    if not _is_number(v):
        raise InputError(f"{where}: expected a finite number{' or null' if null else ''}, got {_show(v)}")
    return float(v)


def _int(v, where, minimum=None, null=False):
    if v is None and null:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool):
        raise InputError(f"{where}: expected an integer{' or null' if null else ''}, got {_show(v)}")
    if minimum is not None and v < minimum:
        raise InputError(f"{where}: expected an integer >= {minimum}, got {v}")
    return v


def _str(v, where):
    if not isinstance(v, str) or not v.strip():
        raise InputError(f"{where}: expected a non-empty string, got {_show(v)}")
    return v


def _list(v, where, min_len=0):
    if not isinstance(v, list):
        raise InputError(f"{where}: expected a list, got {_show(v)}")
    if len(v) < min_len:
        raise InputError(f"{where}: expected at least {min_len} entries, got {len(v)}")
    return v


def _dict(v, where):
    if not isinstance(v, dict):
        raise InputError(f"{where}: expected an object, got {_show(v)}")
    return v


def _get(obj, key, where):
    _dict(obj, where)
    if key not in obj:
        raise InputError(f"{where}.{key} is missing")
    return obj[key]


def _nums(v, where, min_len=0, null=False):
    """A list of numbers as a float array (null -> nan when null=True)."""
    import numpy as np
    _list(v, where, min_len)
    out = np.empty(len(v), dtype=float)
    for i, x in enumerate(v):
        if x is None and null:
            out[i] = np.nan
        elif _is_number(x):
            out[i] = x
        else:
            raise InputError(f"{where}[{i}]: expected a finite number, got {_show(x)}")
    return out


def _show(v):
    s = json.dumps(v) if not isinstance(v, float) else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _increasing(a, where):
    import numpy as np
    if a.size >= 2 and not np.all(np.diff(a) > 0):
        raise InputError(f"{where}: edges must be strictly increasing")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------
def _load_json(path):
    name = os.path.basename(path)
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not valid JSON: {e}") from None


# Features drawn in the distributions figure: the first ones, those whose
# figure data (QQ points, histogram, density) summary.json carries
# (kPlottedFeatures in src/study/feature_stats.hpp).
MAX_DISTRIBUTION_FEATURES = 12


def _parse_profile(summary, names):
    """The first MAX_DISTRIBUTION_FEATURES features' figure data, and the
    number of features."""
    profile = _list(summary["profile"], "summary.json: profile", 1)
    feats = []
    for i, p in enumerate(profile[:MAX_DISTRIBUTION_FEATURES]):
        w = f"summary.json: profile[{i}]"
        _dict(p, w)
        name = _str(_get(p, "name", w), f"{w}.name")
        f = {"name": name}
        for key in ("mean", "std", "min", "max"):
            f[key] = _num(_get(p, key, w), f"{w}.{key}")
        for key in ("skew", "skew_unbiased", "kurtosis"):
            f[key] = _num(_get(p, key, w), f"{w}.{key}", null=True)
        qq = _dict(_get(p, "qq", w), f"{w}.qq")
        f["qq_x"] = _nums(_get(qq, "theoretical", f"{w}.qq"), f"{w}.qq.theoretical")
        f["qq_y"] = _nums(_get(qq, "sample", f"{w}.qq"), f"{w}.qq.sample")
        if f["qq_x"].size != f["qq_y"].size:
            raise InputError(f"{w}.qq: theoretical and sample differ in length "
                             f"({f['qq_x'].size} vs {f['qq_y'].size})")
        for key in ("slope", "intercept", "r"):
            f["qq_" + key] = _num(_get(qq, key, f"{w}.qq"), f"{w}.qq.{key}", null=True)
        h = _dict(_get(p, "histogram", w), f"{w}.histogram")
        f["edges"] = _nums(_get(h, "edges", f"{w}.histogram"), f"{w}.histogram.edges", 2)
        f["counts"] = _nums(_get(h, "counts", f"{w}.histogram"), f"{w}.histogram.counts", 1)
        if f["edges"].size != f["counts"].size + 1:
            raise InputError(f"{w}.histogram: {f['edges'].size} edges for {f['counts'].size} "
                             f"counts (expected counts + 1)")
        _increasing(f["edges"], f"{w}.histogram.edges")
        if (f["counts"] < 0).any():
            raise InputError(f"{w}.histogram.counts: negative count")
        d = _dict(_get(p, "density", w), f"{w}.density")
        f["kde_x"] = _nums(_get(d, "x", f"{w}.density"), f"{w}.density.x")
        f["kde_y"] = _nums(_get(d, "y", f"{w}.density"), f"{w}.density.y")
        if f["kde_x"].size != f["kde_y"].size:
            raise InputError(f"{w}.density: x and y differ in length")
        feats.append(f)
    return feats, len(profile)


def _parse_sweep(summary):
    sweep = _list(summary["sweep"], "summary.json: sweep")
    rows = []
    for i, s in enumerate(sweep):
        w = f"summary.json: sweep[{i}]"
        _dict(s, w)
        rows.append({
            "k": _int(_get(s, "k", w), f"{w}.k", 1),
            "wcss": _num(_get(s, "wcss", w), f"{w}.wcss"),
            "silhouette": _num(s.get("silhouette"), f"{w}.silhouette", null=True),
            "calinski_harabasz": _num(s.get("calinski_harabasz"), f"{w}.calinski_harabasz", null=True),
            "davies_bouldin": _num(s.get("davies_bouldin"), f"{w}.davies_bouldin", null=True),
        })
    rows.sort(key=lambda r: r["k"])
    ks = [r["k"] for r in rows]
    if len(set(ks)) != len(ks):
        raise InputError("summary.json: sweep: repeated k")
    sug = summary.get("suggested_k")
    elbow = best_sil = None
    if sug is not None:
        _dict(sug, "summary.json: suggested_k")
        elbow = _int(sug.get("elbow"), "summary.json: suggested_k.elbow", null=True)
        best_sil = _int(sug.get("silhouette"), "summary.json: suggested_k.silhouette", null=True)
    return {"rows": rows, "elbow": elbow, "best_silhouette": best_sil}


def _parse_model(summary, d):
    m = _dict(summary["model"], "summary.json: model")
    w = "summary.json: model"
    model = {
        "k": _int(_get(m, "k", w), f"{w}.k", 1),
        "inertia": _num(_get(m, "inertia", w), f"{w}.inertia"),
        "silhouette": _num(m.get("silhouette"), f"{w}.silhouette", null=True),
        "silhouette_rows": _int(m.get("silhouette_rows"), f"{w}.silhouette_rows", 0, null=True),
    }
    clusters = []
    for i, c in enumerate(_list(_get(m, "clusters", w), f"{w}.clusters", 1)):
        wc = f"{w}.clusters[{i}]"
        _dict(c, wc)
        cl = {
            "id": _int(_get(c, "id", wc), f"{wc}.id", 0),
            "size": _int(_get(c, "size", wc), f"{wc}.size", 0),
            "share": _num(_get(c, "share", wc), f"{wc}.share"),
            "centroid": _nums(_get(c, "centroid", wc), f"{wc}.centroid"),
            "relative_importance": _nums(_get(c, "relative_importance", wc),
                                         f"{wc}.relative_importance", null=True),
            "silhouette": _num(c.get("silhouette"), f"{wc}.silhouette", null=True),
            "persona": _str(_get(c, "persona", wc), f"{wc}.persona"),
        }
        if cl["centroid"].size != d:
            raise InputError(f"{wc}.centroid: {cl['centroid'].size} values for {d} features")
        if cl["relative_importance"].size != d:
            raise InputError(f"{wc}.relative_importance: {cl['relative_importance'].size} "
                             f"values for {d} features")
        clusters.append(cl)
    ids = [c["id"] for c in clusters]
    if len(set(ids)) != len(ids):
        raise InputError(f"{w}.clusters: repeated cluster id")
    model["clusters"] = _order_clusters(clusters)
    _assign_colours(model["clusters"])
    return model


def _parse_projection(summary, d):
    """summary.json's "projection" (written when the data have more than two
    features): the segmentation plot's axes are then the first two principal
    components of the standardised data.  None when absent."""
    p = summary.get("projection")
    if p is None:
        return None
    w = "summary.json: projection"
    _dict(p, w)
    method = _str(_get(p, "method", w), f"{w}.method")
    features = _int(_get(p, "features", w), f"{w}.features", 1)
    if features != d:
        raise InputError(f"{w}.features: {features}, but input.feature_names has {d}")
    ratio = _nums(_get(p, "explained_variance_ratio", w), f"{w}.explained_variance_ratio")
    if ratio.size != 2 or (ratio < 0).any() or (ratio > 1 + 1e-9).any():
        raise InputError(f"{w}.explained_variance_ratio: expected two fractions in [0, 1]")
    axes = _list(_get(p, "axes", w), f"{w}.axes")
    if len(axes) != 2:
        raise InputError(f"{w}.axes: expected 2 labels, got {len(axes)}")
    return {"method": method, "features": features, "ratio": [float(r) for r in ratio],
            "axes": [_str(a, f"{w}.axes[{i}]") for i, a in enumerate(axes)]}


def _order_clusters(clusters):
    """The five known personas in their canonical order, then the rest by id."""
    rank = {name: i for i, name in enumerate(KNOWN_PERSONAS)}
    return sorted(clusters, key=lambda c: (rank.get(c["persona"], len(rank)), c["id"]))


def _assign_colours(clusters):
    spare = iter(OTHER_COLOURS * (1 + len(clusters) // len(OTHER_COLOURS)))
    for c in sorted(clusters, key=lambda c: c["id"]):
        c["colour"] = PERSONA_COLOURS.get(c["persona"]) or next(spare)


def _read_header(f, path, expected):
    header = f.readline().strip().replace(" ", "")
    if header != expected:
        raise InputError(f"{os.path.basename(path)}: header must be '{expected}', got {_show(header)}")


def _load_table(path, expected_header, ncols):
    """A numeric CSV with a fixed header as an (n, ncols) float array."""
    import numpy as np
    name = os.path.basename(path)
    try:
        with open(path, "r", encoding="utf-8") as f:
            _read_header(f, path, expected_header)
            try:
                a = np.loadtxt(f, delimiter=",", dtype=float, ndmin=2)
            except ValueError as e:
                raise InputError(f"{name}: malformed row: {str(e).splitlines()[0]}") from None
    except FileNotFoundError:
        raise InputError(f"{path} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    if a.size == 0:
        a = a.reshape(0, ncols)
    if a.shape[1] != ncols:
        raise InputError(f"{name}: expected {ncols} columns, got {a.shape[1]}")
    if not np.isfinite(a).all():
        raise InputError(f"{name}: non-finite value")
    return a


def _cluster_index(values, model, name):
    """Map cluster ids in a file column to positions in model['clusters']."""
    import numpy as np
    if values.size and not np.all(values == np.round(values)):
        raise InputError(f"{name}: cluster ids must be integers")
    ids = np.array([c["id"] for c in model["clusters"]])
    lut = np.full(int(max(ids.max(), values.max() if values.size else 0)) + 2, -1)
    lut[ids] = np.arange(ids.size)
    v = values.astype(np.int64)
    bad = (v < 0) | (v >= lut.size)
    idx = np.full(v.shape, -1)
    idx[~bad] = lut[v[~bad]]
    if (idx < 0).any():
        raise InputError(f"{name}: cluster id {int(v[idx < 0][0])} is not in the model")
    return idx


def _load_density(path, model):
    import numpy as np
    dj = _dict(_load_json(path), "figure_density.json")
    w = "figure_density.json"
    xe = _nums(_get(dj, "x_edges", w), f"{w}: x_edges", 2)
    ye = _nums(_get(dj, "y_edges", w), f"{w}: y_edges", 2)
    _increasing(xe, f"{w}: x_edges")
    _increasing(ye, f"{w}: y_edges")
    ny, nx = ye.size - 1, xe.size - 1
    known = {c["id"]: i for i, c in enumerate(model["clusters"])}
    grids = np.zeros((len(model["clusters"]), ny, nx))
    for i, c in enumerate(_list(_get(dj, "clusters", w), f"{w}: clusters")):
        wc = f"{w}: clusters[{i}]"
        cid = _int(_get(c, "id", wc), f"{wc}.id", 0)
        if cid not in known:
            raise InputError(f"{wc}.id: cluster {cid} is not in the model")
        counts = _get(c, "counts", wc)
        try:
            g = np.asarray(counts, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{wc}.counts: not a {ny} x {nx} grid of numbers") from None
        if g.shape != (ny, nx):
            raise InputError(f"{wc}.counts: shape {g.shape} does not match the edges ({ny} x {nx})")
        if not np.isfinite(g).all() or (g < 0).any():
            raise InputError(f"{wc}.counts: counts must be finite and non-negative")
        grids[known[cid]] += g
    return {"x_edges": xe, "y_edges": ye, "grids": grids}


def load_inputs(out_dir, selected):
    """Validate everything the selected figures need before drawing anything.

    Returns (data, skipped): data maps names to parsed inputs, skipped maps
    figure names to the reason they cannot be drawn for this run."""
    summary = _dict(_load_json(os.path.join(out_dir, "summary.json")), "summary.json")
    inp = _dict(_get(summary, "input", "summary.json"), "summary.json: input")
    rows = _int(_get(inp, "rows", "summary.json: input"), "summary.json: input.rows", 0)
    names = [_str(n, f"summary.json: input.feature_names[{i}]")
             for i, n in enumerate(_list(_get(inp, "feature_names", "summary.json: input"),
                                         "summary.json: input.feature_names", 1))]
    data = {"rows": rows, "feature_names": names}
    skipped = {}
    sel = set(selected)
    has_model = summary.get("model") is not None

    if "distributions" in sel:
        if summary.get("profile") is None:
            skipped["distributions"] = "summary.json has no profile"
        else:
            data["profile"], data["profile_features"] = _parse_profile(summary, names)

    if "model_selection" in sel:
        if summary.get("sweep") is None:
            skipped["model_selection"] = "summary.json has no sweep (a fit-only run)"
        else:
            data["sweep"] = _parse_sweep(summary)
            if not data["sweep"]["rows"]:
                skipped["model_selection"] = "summary.json has an empty sweep"

    need_model = sel & {"segmentation", "silhouette", "persona_profile", "model_selection"}
    if need_model and has_model:
        data["model"] = _parse_model(summary, len(names))
    for name in ("segmentation", "silhouette", "persona_profile"):
        if name in sel and not has_model:
            skipped[name] = "summary.json has no model (a profile- or sweep-only run)"

    if "segmentation" in sel and has_model:
        if len(names) < 2:
            skipped["segmentation"] = "the model has fewer than two features"
        else:
            data["projection"] = _parse_projection(summary, len(names))
            pts = os.path.join(out_dir, "figure_points.csv")
            den = os.path.join(out_dir, "figure_density.json")
            if os.path.exists(pts):
                header = "pc1,pc2,cluster" if data["projection"] else "x,y,cluster"
                a = _load_table(pts, header, 3)
                data["points"] = {"x": a[:, 0], "y": a[:, 1],
                                  "idx": _cluster_index(a[:, 2], data["model"], "figure_points.csv")}
            elif os.path.exists(den):
                data["density"] = _load_density(den, data["model"])
            else:
                raise InputError(f"neither {pts} nor {den} exists")

    if "silhouette" in sel and has_model:
        if data["model"]["silhouette"] is None:
            skipped["silhouette"] = "the model's silhouette is undefined (null in summary.json)"
        else:
            a = _load_table(os.path.join(out_dir, "figure_silhouette.csv"), "cluster,silhouette", 2)
            if a.shape[0] == 0:
                raise InputError("figure_silhouette.csv: no rows")
            if (a[:, 1] < -1 - 1e-9).any() or (a[:, 1] > 1 + 1e-9).any():
                raise InputError("figure_silhouette.csv: silhouette outside [-1, 1]")
            data["silhouette"] = {"idx": _cluster_index(a[:, 0], data["model"], "figure_silhouette.csv"),
                                  "s": a[:, 1]}
    return data, skipped


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------
def _setup_matplotlib():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        "font.size": 10.5,
        "axes.titlesize": 11.5,
        "axes.titleweight": "semibold",
        "axes.labelsize": 10.5,
        "xtick.labelsize": 9.5,
        "ytick.labelsize": 9.5,
        "legend.fontsize": 9.5,
        "legend.title_fontsize": 10,
        "figure.titlesize": 15,
        "figure.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#555555",
        "axes.grid": True,
        "grid.color": "#E4E4E4",
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
        "axes.prop_cycle": matplotlib.cycler(color=["#0072B2", "#D55E00", "#009E73", "#CC79A7"]),
        "svg.hashsalt": "archetype",
        "svg.fonttype": "path",
        "path.simplify": True,
    })
    return plt


def _fmt_int(n):
    return f"{int(n):,}"


def _fmt_signed(v, digits=3):
    return "n/a" if v is None else f"{v:+.{digits}f}".replace("-", "\u2212")


def _halo(width=3.0):
    import matplotlib.patheffects as pe
    return [pe.withStroke(linewidth=width, foreground="white")]


def fig_distributions(plt, data):
    import numpy as np
    feats = data["profile"]
    n_feat = len(feats)
    fig, axes = plt.subplots(n_feat, 2, figsize=(11, 3.9 * n_feat + 0.6), squeeze=False,
                             gridspec_kw={"width_ratios": [1.35, 1]})
    total = data.get("profile_features", n_feat)
    fig.suptitle("Distribution and QQ Plots" +
                 (f" (the first {n_feat} of {total} features)" if total > n_feat else ""),
                 y=1 - 0.1 / fig.get_figheight())
    for row, f in enumerate(feats):
        ax, qx = axes[row]
        edges, counts = f["edges"], f["counts"]
        widths = np.diff(edges)
        n = counts.sum()
        uniform = np.allclose(widths, widths.mean(), rtol=1e-6, atol=0)
        # Counts when the bins are equal, density otherwise (unequal bins
        # would make the counts misleading).
        heights = counts if uniform else counts / max(n, 1) / widths
        ax.bar(edges[:-1], heights, width=widths, align="edge", color="#56B4E9",
               edgecolor="white", linewidth=0.6,
               label="creators per bin" if uniform else "histogram (density)")
        if f["kde_x"].size:
            scale = n * widths.mean() if uniform else 1.0
            ax.plot(f["kde_x"], f["kde_y"] * scale, color="#0072B2", lw=2.2,
                    label="Gaussian KDE")
        ax.axvline(f["mean"], ymax=0.82, color=INK, ls="--", lw=1.2,
                   label=f"mean {f['mean']:.3g}")
        ax.set_title(f"{f['name']}: skewness {_fmt_signed(f['skew'])} "
                     f"(unbiased {_fmt_signed(f['skew_unbiased'])})")
        stats = f"std {f['std']:.3g}"
        if f["kurtosis"] is not None:
            stats += f", excess kurtosis {_fmt_signed(f['kurtosis'], 2)}"
        ax.set_xlabel(f"{f['name']}   ({stats})")
        ax.set_ylabel("Creators" if uniform else "Density")
        ax.set_xlim(edges[0], edges[-1])
        top = float(heights.max()) if heights.size else 1.0
        if f["kde_x"].size:
            inside = (f["kde_x"] >= edges[0]) & (f["kde_x"] <= edges[-1])
            if inside.any():
                top = max(top, float((f["kde_y"][inside] * scale).max()))
        # Head room for a one-row legend above the bars.
        ax.set_ylim(0, (top or 1.0) * 1.25)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: 0 if "histogram" in labels[i]
                       or "per bin" in labels[i] else 1)
        ax.legend([handles[i] for i in order], [labels[i] for i in order],
                  loc="upper center", ncol=3, frameon=True, framealpha=1.0, edgecolor="none",
                  borderaxespad=0.2,
                  handlelength=1.6, columnspacing=1.2)

        qx.scatter(f["qq_x"], f["qq_y"], s=12, color="#0072B2", alpha=0.7, edgecolors="none",
                   label="sample quantiles", rasterized=f["qq_x"].size > 4000)
        if f["qq_slope"] is not None and f["qq_intercept"] is not None and f["qq_x"].size:
            xs = np.array([f["qq_x"].min(), f["qq_x"].max()])
            r = "" if f["qq_r"] is None else f", r = {f['qq_r']:.4f}"
            qx.plot(xs, f["qq_intercept"] + f["qq_slope"] * xs, color="#D55E00", lw=2,
                    label=f"least-squares line{r}")
        qx.set_title(f"Normal QQ plot: {f['name']}")
        qx.set_xlabel("Theoretical quantiles (standard normal)")
        qx.set_ylabel("Sample quantiles")
        qx.legend(loc="upper left", frameon=True, framealpha=0.9)
    # Title row above each row of axes, tick labels and an x label below.
    _fixed_layout(fig, axes, top=0.88, bottom=0.62, row_gap=1.0)
    return fig


def _best(ks, values, higher):
    import numpy as np
    v = np.asarray(values, dtype=float)
    if np.isnan(v).all():
        return None
    i = int(np.nanargmax(v) if higher else np.nanargmin(v))
    return ks[i], v[i]


def fig_model_selection(plt, data):
    import numpy as np
    sw = data["sweep"]
    rows = sw["rows"]
    ks = [r["k"] for r in rows]
    model_k = data["model"]["k"] if "model" in data else None
    elbow, best_sil = sw["elbow"], sw["best_silhouette"]

    fig, axes = plt.subplots(2, 2, figsize=(11, 8.4))
    fig.text(0.5, 0.995, "Choosing k", ha="center", va="top",
             fontsize=plt.rcParams["figure.titlesize"], fontweight="bold")
    if elbow is not None and best_sil is not None:
        if elbow == best_sil:
            note, colour = f"Elbow and silhouette agree: k = {elbow}", INK
        else:
            note, colour = (f"Elbow (k = {elbow}) and silhouette (k = {best_sil}) disagree",
                            "#B5400A")
    elif elbow is None and best_sil is None:
        note, colour = "No elbow or silhouette suggestion in this run", INK
    else:
        note = ("no clear elbow" if elbow is None else f"Elbow k = {elbow}") + "; " + \
            ("silhouette not computed" if best_sil is None else f"best silhouette k = {best_sil}")
        note, colour = note[0].upper() + note[1:], INK
    if model_k is not None:
        note += f"  \u2022  fitted model: k = {model_k} (shaded)"
    fig.text(0.5, 0.953, note, ha="center", va="top", fontsize=12, color=colour,
             fontweight="semibold" if colour != INK else "normal")

    panels = [
        ("wcss", "Within-cluster sum of squares (WCSS)", "lower is tighter; look for the knee", None),
        ("silhouette", "Mean silhouette", "higher is better", True),
        ("calinski_harabasz", "Calinski-Harabasz index", "higher is better", True),
        ("davies_bouldin", "Davies-Bouldin index", "lower is better", False),
    ]
    kmin, kmax = min(ks + ([model_k] if model_k else [])), max(ks + ([model_k] if model_k else []))
    for ax, (key, title, hint, higher) in zip(axes.flat, panels):
        vals = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
        ax.set_title(f"{title}\n", loc="center")
        ax.text(0.5, 1.0, hint, transform=ax.transAxes, ha="center", va="bottom",
                fontsize=9.5, color="#555555")
        ax.set_xlabel("k (number of clusters)")
        ax.set_xticks(range(kmin, kmax + 1))
        ax.set_xlim(kmin - 0.6, kmax + 0.6)
        if model_k is not None:
            ax.axvspan(model_k - 0.35, model_k + 0.35, color=HIGHLIGHT_COLOUR, alpha=0.22, lw=0,
                       label=f"fitted model (k = {model_k})")
        if np.isnan(vals).all():
            ax.text(0.5, 0.5, "not computed in this run", transform=ax.transAxes,
                    ha="center", va="center", color="#777777", fontsize=11)
            ax.set_yticks([])
            continue
        ax.plot(ks, vals, "-o", color="#0072B2", lw=2, ms=5.5)
        mark = None
        if key == "wcss":
            if elbow is not None and elbow in ks:
                mark = (elbow, vals[ks.index(elbow)], f"elbow k = {elbow}", "elbow")
        elif key == "silhouette" and best_sil is not None and best_sil in ks \
                and not np.isnan(vals[ks.index(best_sil)]):
            mark = (best_sil, vals[ks.index(best_sil)], f"best k = {best_sil}", "max")
        else:
            b = _best(ks, vals, higher)
            if b is not None:
                mark = (b[0], b[1], f"best k = {b[0]}", "max" if higher else "min")
        lo, hi = np.nanmin(vals), np.nanmax(vals)
        span = (hi - lo) or abs(hi) or 1.0
        ax.set_ylim(lo - 0.2 * span, hi + 0.2 * span)
        if mark is not None:
            mk, mv, label, kind = mark
            ax.plot([mk], [mv], marker="o", ms=16, mfc="none", mec="#B5400A", mew=2.2, ls="none",
                    zorder=4)
            style = dict(textcoords="offset points", fontsize=10.5, fontweight="semibold",
                         color="#B5400A", path_effects=_halo(), zorder=5)
            if kind == "elbow":
                # Up and to the right of a knee on a falling curve is empty.
                ax.annotate(label, xy=(mk, mv), xytext=(30, 34), ha="left", va="bottom",
                            arrowprops={"arrowstyle": "->", "color": "#B5400A", "lw": 1.4,
                                        "shrinkB": 9}, **style)
            else:
                # Nothing lies above a maximum or below a minimum.
                up = kind == "max"
                ax.annotate(label, xy=(mk, mv), xytext=(0, 13 if up else -13),
                            ha="center", va="bottom" if up else "top", **style)
        if key == "wcss":
            ax.set_ylabel("WCSS (standardised units)")
            if model_k is not None:
                ax.legend(loc="upper right", frameon=True, framealpha=0.9)
        elif key == "silhouette":
            ax.set_ylabel("mean silhouette (\u22121 .. 1)")
        else:
            ax.set_ylabel(title.split(" index")[0])
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    # Room at the top for the title and a one-line verdict under it, and
    # for each panel's two-line title (the title and its hint).
    _fixed_layout(fig, axes, top=1.2, bottom=0.62, row_gap=1.15)
    return fig


def _wrap_persona(name, width=30, max_lines=6):
    """A persona name in lines of about `width` characters, broken after its
    commas where it can, and cut after `max_lines` lines with an ellipsis
    (the names made from feature levels, "High Followers, Low Engagement
    Rate, ...", grow by a phrase per feature)."""
    import textwrap
    lines = []
    for part in name.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            if lines:
                lines[-1] += ","
            lines.extend(textwrap.wrap(part, width, break_long_words=False) or [""])
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(",") + " \u2026"
    return "\n".join(lines)


# Persona names longer than this do not fit next to a centroid: the plot then
# marks the centres with short keys (P1, P2, ...) that the legend spells out.
MAX_ON_PLOT_NAME = 30


# Personas the figures name (legend, label, their own row or band): the
# largest ones when there are more (k in the hundreds or thousands, where
# thousands of rows, bands and labels would make the figures unreadable, or
# too large to draw); the others are still drawn (segmentation), pooled
# (silhouette) or counted (persona profile), and the report's model table
# lists every one.
MAX_NAMED_PERSONAS = 30


def _named(clusters):
    """Indices, in order, of the clusters the figures name: every one, or
    the MAX_NAMED_PERSONAS largest (ties: the earlier)."""
    k = len(clusters)
    if k <= MAX_NAMED_PERSONAS:
        return list(range(k))
    largest = sorted(range(k), key=lambda i: -clusters[i]["size"])[:MAX_NAMED_PERSONAS]
    return sorted(largest)


def _rest_text(clusters, named):
    """'and 15 smaller personas (7.8%)': the clusters not named."""
    shown = set(named)
    rest = [c for i, c in enumerate(clusters) if i not in shown]
    share = 100 * sum(c["share"] for c in rest)
    return f"{len(rest)} smaller personas ({share:.1f}%)"


def _centre_keys(clusters):
    """What to write next to each centre: the persona names, or P1..Pk for all
    of them when any name is too long to place on the plot."""
    if all(len(c["persona"]) <= MAX_ON_PLOT_NAME for c in clusters):
        return [c["persona"] for c in clusters]
    return [f"P{i + 1}" for i in range(len(clusters))]


def _legend_label(c, key):
    count = f"{_fmt_int(c['size'])} ({100 * c['share']:.1f}%)"
    if key == c["persona"]:
        return f"{c['persona']} \u2014 {count}"
    return f"{key}  {_wrap_persona(c['persona'], 44, 3)} \u2014 {count}"


def fig_segmentation(plt, data):
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    model = data["model"]
    clusters = model["clusters"]
    names = data["feature_names"]
    proj = data.get("projection")
    if proj:
        xlabel, ylabel = proj["axes"]
        view = f"PCA projection of the {proj['features']} features"
    else:
        xlabel, ylabel = names[0], names[1]
        # More than two features without a projection (an older `archetype`):
        # the points are the first two columns, and the title says so.
        view = (f"{names[0]} vs {names[1]}" if len(names) == 2 else
                f"{names[0]} vs {names[1]} (2 of the {len(names)} features)")
    fig, ax = plt.subplots(figsize=(11.5, 7.4), layout="constrained")
    keys = _centre_keys(clusters)
    named = _named(clusters)
    handles = []
    if "points" in data:
        pts = data["points"]
        n = pts["x"].size
        alpha = float(np.clip(0.8 * math.sqrt(2000.0 / max(n, 1)), 0.1, 0.8))
        ms = float(np.clip(9.0 - 1.5 * math.log10(max(n, 10)), 1.5, 5.0))
        raster = n > 5000
        order = sorted(range(len(clusters)), key=lambda i: -int((pts["idx"] == i).sum()))
        for i in order:
            sel = pts["idx"] == i
            ax.plot(pts["x"][sel], pts["y"][sel], "o", ms=ms, alpha=alpha, mew=0,
                    color=clusters[i]["colour"], rasterized=raster, zorder=2)
        for i in named:
            handles.append(Line2D([], [], ls="none", marker="o", ms=8, color=clusters[i]["colour"],
                                  label=_legend_label(clusters[i], keys[i])))
        subtitle = f"{_fmt_int(n)} creators, one dot each"
        ax.margins(0.03)
    else:
        den = data["density"]
        xe, ye, grids = den["x_edges"], den["y_edges"], den["grids"]
        tot = grids.sum(axis=0)
        from matplotlib.colors import to_rgb, LogNorm, LinearSegmentedColormap
        rgb = np.array([to_rgb(c["colour"]) for c in clusters])          # (k, 3)
        with np.errstate(invalid="ignore", divide="ignore"):
            mix = np.einsum("kyx,kc->yxc", grids, rgb) / tot[..., None]
        mix[tot == 0] = 1.0
        tmax = tot.max() if tot.size else 0
        level = np.log1p(tot) / math.log1p(tmax) if tmax > 0 else np.zeros_like(tot)
        a_min = 0.18
        alpha = np.where(tot > 0, a_min + (1 - a_min) * level, 0.0)
        rgba = np.dstack([mix, alpha])
        wx, wy = np.diff(xe), np.diff(ye)
        if np.allclose(wx, wx.mean(), rtol=1e-6) and np.allclose(wy, wy.mean(), rtol=1e-6):
            ax.imshow(rgba, origin="lower", extent=(xe[0], xe[-1], ye[0], ye[-1]),
                      aspect="auto", interpolation="antialiased", zorder=2)
        else:
            mesh = ax.pcolormesh(xe, ye, np.zeros_like(tot), shading="flat", zorder=2,
                                 rasterized=True)
            mesh.set_array(None)
            mesh.set_facecolor(rgba.reshape(-1, 4))
            mesh.set_edgecolor("face")
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        for i in named:
            handles.append(Patch(facecolor=clusters[i]["colour"], edgecolor="none",
                                 label=_legend_label(clusters[i], keys[i])))
        if tmax > 0:
            ramp = LinearSegmentedColormap.from_list(
                "shade", [(1 - a_min * 0.55,) * 3, (0.45,) * 3])
            sm = plt.cm.ScalarMappable(norm=LogNorm(vmin=1, vmax=max(tmax, 2)), cmap=ramp)
            # Under the legend, outside the data area.
            cax = ax.inset_axes([1.035, 0.0, 0.022, 0.42])
            cb = fig.colorbar(sm, cax=cax)
            cb.set_label("creators per cell (log scale; hue = persona)")
        subtitle = (f"{_fmt_int(data['rows'] or tot.sum())} creators as a density on a "
                    f"{tot.shape[1]} \u00d7 {tot.shape[0]} grid")
    if proj:
        total = 100 * sum(proj["ratio"])
        subtitle += f"; the two axes show {total:.1f}% of the standardised data's variance"
    # Centroids on top; their labels are placed once the layout is final.
    centres = _plot_centres(data, proj)
    big = set(named)
    for i, (c, (cx, cy)) in enumerate(zip(clusters, centres)):
        if cx is None:
            continue
        if i not in big:  # a smaller persona's centre: marked, not labelled
            ax.plot([cx], [cy], marker="o", ms=6, color=c["colour"], mec=INK, mew=0.9, zorder=4,
                    ls="none")
            continue
        ax.plot([cx], [cy], marker="o", ms=15, color=c["colour"], mec=INK, mew=2.2, zorder=5,
                ls="none")
        ax.plot([cx], [cy], marker="x", ms=6, color=INK, mew=1.6, zorder=6, ls="none")
    if len(named) < len(clusters):
        handles.append(Line2D([], [], ls="none", marker="o", ms=6, color="#BBBBBB", mec=INK, mew=0.9,
                              label=f"and {_rest_text(clusters, named)}"))
    handles.append(Line2D([], [], ls="none", marker="o", ms=11, color="white", mec=INK, mew=2,
                          label="cluster centre (mean of its creators)" if proj else
                          "cluster centroid"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title="Persona \u2014 creators (share)", alignment="left", borderaxespad=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"Creator segmentation: {len(clusters)} personas, {view}\n", fontsize=13)
    ax.text(0.5, 1.0, subtitle, transform=ax.transAxes, ha="center", va="bottom",
            fontsize=10, color="#555555")
    _label_centroids(fig, ax, [(centres[i][0], centres[i][1], keys[i]) for i in named
                               if centres[i][0] is not None])
    return fig


def _plot_centres(data, proj):
    """Where to mark each cluster's centre on the plot: (x, y) per cluster, or
    (None, None) for a cluster with nothing plotted.

    In original units these are the model's centroids.  On PCA axes the
    centroids would need the principal components, which summary.json does
    not carry, so each centre is the mean of the cluster's plotted points
    instead.  PCA is linear and a K-Means centroid is the mean of its members
    in the standardised space, so with every creator plotted (all of them
    up to 200,000 rows) that mean is exactly the centroid's own projection;
    from the density grid it is the count-weighted mean of the cell centres,
    right to within a cell."""
    clusters = data["model"]["clusters"]
    if not proj:
        return [(c["centroid"][0], c["centroid"][1]) for c in clusters]
    centres = []
    if "points" in data:
        pts = data["points"]
        for i in range(len(clusters)):
            sel = pts["idx"] == i
            centres.append((float(pts["x"][sel].mean()), float(pts["y"][sel].mean()))
                           if sel.any() else (None, None))
    else:
        den = data["density"]
        mx = (den["x_edges"][:-1] + den["x_edges"][1:]) / 2
        my = (den["y_edges"][:-1] + den["y_edges"][1:]) / 2
        for g in den["grids"]:                 # (ny, nx) counts of one cluster
            n = g.sum()
            centres.append((float(g.sum(axis=0) @ mx / n), float(g.sum(axis=1) @ my / n))
                           if n > 0 else (None, None))
    return centres


def _label_centroids(fig, ax, items):
    """Label each centroid next to its marker, avoiding the other labels and markers.

    Runs the layout once, freezes it, then tries a ring of positions around
    each marker (nearest first) and keeps the first that collides with
    nothing already placed; failing that, the one with the least overlap."""
    import textwrap
    _pin_layout(fig)
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    marker_r = 10 * px
    centres = [ax.transData.transform((x, y)) for x, y, _ in items]
    taken = [(cx - marker_r, cy - marker_r, cx + marker_r, cy + marker_r) for cx, cy in centres]
    axbox = ax.get_window_extent(renderer)
    near = [(0, 13, "center", "bottom"), (0, -13, "center", "top"), (14, 0, "left", "center"),
            (-14, 0, "right", "center"), (10, 10, "left", "bottom"), (-10, 10, "right", "bottom"),
            (10, -10, "left", "top"), (-10, -10, "right", "top")]
    far = [(dx * 2.6, dy * 2.6, ha, va) for dx, dy, ha, va in near]

    def overlap(a, b):
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        return w * h if w > 0 and h > 0 else 0.0

    for (x, y, name), (cx, cy) in zip(items, centres):
        if len(name) > 22 and ", " in name:
            text = name.replace(", ", ",\n")
        else:
            text = textwrap.fill(name, 24, break_long_words=False)
        best = None
        for i, (dx, dy, ha, va) in enumerate(near + far):
            leader = i >= len(near)
            ann = ax.annotate(
                text, xy=(x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                multialignment="center", fontsize=11, fontweight="bold", color=INK,
                path_effects=_halo(3.5), zorder=7, annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": INK, "lw": 1.0, "shrinkA": 2,
                            "shrinkB": 9} if leader else None)
            bb = ann.get_window_extent(renderer)
            box = (bb.x0 - 2, bb.y0 - 2, bb.x1 + 2, bb.y1 + 2)
            score = sum(overlap(box, t) for t in taken)
            outside = (max(0, axbox.x0 - box[0]) + max(0, box[2] - axbox.x1) +
                       max(0, axbox.y0 - box[1]) + max(0, box[3] - axbox.y1))
            score += outside * (box[3] - box[1])
            score += i * 1e-6          # prefer nearer candidates on ties
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, ann, box)
            else:
                ann.remove()
            if score < 1e-3:
                break
        taken.append(best[2])


def _persona_label(c, key, width=30, max_lines=6):
    """A persona's name for an axis label: as it is when short, else wrapped
    and led by the key the segmentation figure marks its centre with."""
    if key == c["persona"]:
        return _wrap_persona(c["persona"], width, max_lines)
    return f"{key}  {_wrap_persona(c['persona'], width, max_lines)}"


def fig_silhouette(plt, data):
    import numpy as np
    model = data["model"]
    clusters = model["clusters"]
    s, idx = data["silhouette"]["s"], data["silhouette"]["idx"]
    n = s.size
    mean = model["silhouette"] if model["silhouette"] is not None else float(s.mean())
    k = len(clusters)
    keys = _centre_keys(clusters)
    named = _named(clusters)
    # One band per named persona, in the shared persona order, and one for
    # the smaller ones pooled (grey, last) when not every persona is named.
    bands = [(idx == i, clusters[i]["colour"], _persona_label(clusters[i], keys[i], 34, 3)) for i in named]
    if len(named) < k:
        bands.append((~np.isin(idx, named), "#BBBBBB", _rest_text(clusters, named).replace(" (", "\n(")))
    nb = len(bands)
    axes_h = 0.75 * max(nb, 4)                          # inches, roughly
    fig, ax = plt.subplots(figsize=(10.5, 2.3 + axes_h), layout="constrained")
    gap = max(n * 0.025, 1.0)
    sizes = [int(sel.sum()) for sel, _, _ in bands]
    # Each band is as tall as its cluster is large, but at least tall enough
    # for its two-line label (~0.4 in), so small clusters' labels keep apart.
    slot = [float(m) for m in sizes]
    for _ in range(2):                                  # the minimum depends on the total
        min_slot = 0.42 * (sum(slot) + nb * gap) / axes_h
        slot = [max(float(m), min_slot) for m in sizes]
    y = 0.0
    ticks, labels = [], []
    # Top to bottom in the shared persona order.
    for i in reversed(range(nb)):
        sel, colour, label = bands[i]
        v = np.sort(s[sel])
        m = v.size
        top = y + slot[i]
        if m:
            # A sorted curve: a few thousand quantiles draw it exactly at any
            # size and keep the SVG small.  Centred in its slot.
            y0 = y + (slot[i] - m) / 2
            if m > 3000:
                pos = np.linspace(0, m - 1, 3000)
                v_draw = np.interp(pos, np.arange(m), v)
                y_draw = y0 + pos
            else:
                v_draw, y_draw = v, y0 + np.arange(m)
            ax.fill_betweenx(y_draw, 0, v_draw, color=colour, alpha=0.85, lw=0)
            # The cluster's numbers right of the axes (x > 1 in axes units):
            # silhouettes reach 1.0, so anywhere inside could be over a band.
            ax.text(1.015, (y + top) / 2, f"mean {v.mean():.3f}\nn = {_fmt_int(m)}",
                    transform=ax.get_yaxis_transform(), ha="left", va="center",
                    fontsize=9.5, color=INK, clip_on=False)
        ticks.append((y + top) / 2)
        labels.append(label)
        y = top + gap
    ax.axvline(mean, color=INK, ls="--", lw=1.6, zorder=4)
    ax.text(mean, 1.005, f"mean {mean:.3f}", transform=ax.get_xaxis_transform(), ha="center",
            va="bottom", fontsize=10, fontweight="semibold", color=INK)
    ax.axvline(0, color="#555555", lw=0.9)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    ax.set_ylim(-gap / 2, y - gap / 2)
    lo = min(-0.1, float(np.floor(s.min() * 10) / 10) if n else -0.1)
    ax.set_xlim(lo, 1.0)
    ax.set_xticks(np.round(np.arange(math.ceil(lo * 5) / 5, 1.0001, 0.2), 2))
    ax.set_xlabel("Silhouette coefficient (per creator; each cluster's mean and size at right)")
    rows = data["rows"]
    evaluated = model["silhouette_rows"] if model["silhouette_rows"] else n
    if evaluated < rows:
        who = f"sample of {_fmt_int(evaluated)} of {_fmt_int(rows)} creators"
    else:
        who = f"all {_fmt_int(evaluated)} creators"
    ax.set_title(f"Silhouette analysis (k = {k}): mean {mean:.3f}, {who}", fontsize=12.5, pad=20)
    return fig


# More panels than this would be too small to read: the figure then shows
# the features on which the personas differ most, and says so.
MAX_PROFILE_FEATURES = 12


def _fmt_pct(v):
    """+25.7%, -1,234% (with a real minus sign)."""
    text = f"{v:+,.0f}%" if abs(v) >= 100 else f"{v:+.1f}%"
    return text.replace("-", "\u2212")


def _nice_below(x):
    """The largest 1, 2, 2.5 or 5 x 10^n that is <= x (x > 0)."""
    e = 10.0 ** math.floor(math.log10(x))
    return max(m * e for m in (1, 2, 2.5, 5, 10) if m * e <= x * (1 + 1e-9))


def _profile_columns(d):
    """Panels per row: all in one row up to 4, else 3 or 4 a row, whichever
    leaves fewer empty slots (then fewer rows)."""
    if d <= 4:
        return d
    return min((3, 4), key=lambda c: (math.ceil(d / c) * c - d, math.ceil(d / c)))


def fig_persona_profile(plt, data):
    """One small panel per feature, each on its own symmetric scale.

    Relative importance (persona mean / platform mean - 1) ranges from a few
    percent to thousands on the same model, so a common axis hid most bars;
    per-panel scales keep every bar readable, and the caption says the
    scales differ."""
    import numpy as np
    import textwrap
    from matplotlib.ticker import FuncFormatter
    model = data["model"]
    names = data["feature_names"]
    named = _named(model["clusters"])
    all_keys = _centre_keys(model["clusters"])     # P1..Pk numbered over every cluster
    keys = [all_keys[i] for i in named]
    clusters = [model["clusters"][i] for i in named]
    k = len(clusters)
    rel = np.array([c["relative_importance"] for c in clusters]) * 100.0   # (k, d), nan = null
    cols = list(range(len(names)))
    title = "Persona profiles: deviation from the platform average"
    if k < len(model["clusters"]):
        title += (f"\nthe {k} largest of {len(model['clusters'])} personas "
                  f"(the {_rest_text(model['clusters'], named)} are in the report)")
    if len(cols) > MAX_PROFILE_FEATURES:
        # Spread across personas; a feature with no defined value ranks last.
        defined = np.isfinite(rel)
        hi = np.where(defined, rel, -np.inf).max(axis=0)
        lo = np.where(defined, rel, np.inf).min(axis=0)
        spread = np.where(defined.any(axis=0), hi - lo, -1.0)
        cols = sorted(np.argsort(-spread, kind="stable")[:MAX_PROFILE_FEATURES].tolist())
        title += (f"\nthe {len(cols)} of {len(names)} features on which the personas "
                  f"differ most")
    d = len(cols)
    ncols = _profile_columns(d)
    nrows = math.ceil(d / ncols)
    ylabels = [f"{_persona_label(c, key, 30, 4)}\n{100 * c['share']:.1f}% of creators"
               for c, key in zip(clusters, keys)]
    # Each persona's row is as tall as its label (9.5 pt lines, ~0.16 in).
    row_h = max(0.42, 0.16 * max(t.count("\n") + 1 for t in ylabels) + 0.1)
    panel_h = row_h * k + 0.95
    fig, axes = plt.subplots(nrows, ncols, figsize=(11.5, panel_h * nrows + 1.1), squeeze=False,
                             sharey=True, layout="constrained")
    # Gaps between the panels: the inner ones have no y labels to hold them apart.
    fig.get_layout_engine().set(wspace=0.07)
    fig.suptitle(title)
    fig.supxlabel("persona mean vs platform mean, in % of the platform mean "
                  "(\u2190 below average | above average \u2192)"
                  + ("; each panel has its own scale" if d > 1 else ""),
                  fontsize=10, color="#444444")
    ypos = np.arange(k)[::-1]
    colours = [c["colour"] for c in clusters]
    # Panel titles wrapped to the panel's width, estimated before the layout
    # (which cannot re-wrap): the figure less the persona labels (their
    # longest line, ~0.56 em a character) in ncols panels, 11 pt bold text
    # ~0.68 em a character.
    label_w = max(len(line) for t in ylabels for line in t.split("\n")) * 0.56 * 9.5 / 72
    panel_w = (11.5 - label_w - 0.4) / ncols - 0.15
    wrap = max(10, int(panel_w * 72 / (0.68 * 11)))
    labels = []                                       # (ax, value, annotation) to fit below
    pct = FuncFormatter(lambda v, _: "0" if abs(v) < 1e-9 else _fmt_pct(v).replace(".0%", "%"))
    for slot, ax in enumerate(axes.flat):
        if slot >= d:
            ax.set_visible(False)
            continue
        j = cols[slot]
        vals = rel[:, j]
        ok = np.isfinite(vals)
        ax.barh(ypos[ok], vals[ok], color=[colours[i] for i in np.flatnonzero(ok)], height=0.62,
                edgecolor=INK, linewidth=0.6, zorder=3)
        ax.axvline(0, color=INK, lw=1.1, zorder=4)
        # Labels sit a fixed distance beyond the bar's end (offset in points,
        # so the distance does not depend on the panel's scale).
        for i in range(k):
            v = vals[i]
            if np.isfinite(v):
                right = v >= 0
                ann = ax.annotate(_fmt_pct(v), xy=(v, ypos[i]), xytext=(3 if right else -3, 0),
                                  textcoords="offset points", ha="left" if right else "right",
                                  va="center", fontsize=9.5, color=INK, zorder=5)
                # Out of the layout: the range is widened to hold it instead.
                ann.set_in_layout(False)
                labels.append((ax, abs(v), ann))
            else:
                ax.annotate("n/a", xy=(0, ypos[i]), xytext=(4, 0), textcoords="offset points",
                            ha="left", va="center", fontsize=9.5, color="#777777")
        top = float(np.abs(vals[ok]).max()) if ok.any() else 0.0
        ax.set_xlim(-(top or 1.0), top or 1.0)      # widened to fit the labels below
        ax.set_title(textwrap.fill(names[j], wrap), fontsize=11)
        ax.xaxis.set_major_formatter(pct)
        ax.grid(axis="y", visible=False)
        ax.set_ylim(-0.6, k - 0.4)
        ax.tick_params(axis="y", length=0)
    for r in range(nrows):
        axes[r, 0].set_yticks(ypos)
        axes[r, 0].set_yticklabels(ylabels)
    _fit_profile_labels(fig, [a for a in axes.flat if a.get_visible()], labels)
    return fig


def _fit_profile_labels(fig, panels, labels):
    """Widen each panel's symmetric range until every value label fits inside it.

    A label of width t (pixels) after a bar of value v needs
    v / lim * W + t <= W, W being the half-width of the panel: lim >=
    v * W / (W - t).  The text widths are only known after the layout, so
    the layout runs here, is frozen, and the ranges and ticks are set last."""
    from matplotlib.ticker import FixedLocator
    _pin_layout(fig)
    renderer = fig.canvas.get_renderer()
    need = {ax: ax.get_xlim()[1] for ax in panels}
    for ax, v, ann in labels:
        half = ax.get_window_extent(renderer).width / 2
        t = ann.get_window_extent(renderer).width + 3 * fig.dpi / 72 + 4
        # A label wider than 80% of the half panel would squash the bars:
        # past that it may overhang, which only a very narrow panel sees.
        need[ax] = max(need[ax], v * half / max(half - t, 0.2 * half))
    for ax in panels:
        lim = need[ax] * 1.02
        ax.set_xlim(-lim, lim)
        # Three ticks, the outer ones well inside the panel so that
        # neighbouring panels' tick labels stay apart.
        tick = _nice_below(0.75 * lim)
        ax.xaxis.set_major_locator(FixedLocator([-tick, 0.0, tick]))


BUILDERS = {
    "distributions": fig_distributions,
    "model_selection": fig_model_selection,
    "segmentation": fig_segmentation,
    "silhouette": fig_silhouette,
    "persona_profile": fig_persona_profile,
}


# White space around every saved figure, in inches (the layout's own pads
# add 3 points more).
SAVE_MARGIN = 0.12


def _tick_label_width(ax):
    """Width, in inches, of the widest y tick label `ax` will draw, from
    the labels' text (DejaVu Sans digits are 0.64 em wide; other glyphs
    are no wider on average): no drawing needed to know it."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    lo, hi = sorted(ax.get_ylim())
    slack = 1e-9 * (hi - lo)
    locs = [v for v in ax.get_yticks() if lo - slack <= v <= hi + slack]
    if not locs:
        return 0.0
    labels = ax.yaxis.get_major_formatter().format_ticks(locs)
    size = FontProperties(size=matplotlib.rcParams["ytick.labelsize"]).get_size_in_points()
    return max(len(t) for t in labels) * 0.64 * size / 72.0


def _fixed_layout(fig, axes, top, bottom, row_gap, right=0.18):
    """Place a grid of axes at margins computed from what they show,
    instead of a layout engine: the constrained layout measured every text
    of the figure, a third of the drawing time of the grids of panels.
    Sizes are in inches: `top` above the first row, `bottom` below the last,
    `row_gap` between rows (each holds the row above's tick labels and x
    label and the row below's title).  The left margin and the gaps
    between columns follow the widest y tick label of each column; a text
    that still sticks out is caught by _sticks_out, which then saves the
    figure's tight box instead."""
    w, h = fig.get_size_inches()
    nrows, ncols = axes.shape
    # Per column: y label (about 0.3 in with its pad) + widest tick label + pads.
    need = [0.34 + max(_tick_label_width(axes[r, c]) for r in range(nrows)) + 0.12 for c in range(ncols)]
    left = 0.1 + need[0]
    col_gaps = [0.28 + n for n in need[1:]]
    width_ratios = axes[0, 0].get_gridspec().get_width_ratios() or [1] * ncols
    usable_w = w - left - right - sum(col_gaps)
    usable_h = h - top - bottom - row_gap * (nrows - 1)
    x = left
    for c in range(ncols):
        cw = usable_w * width_ratios[c] / sum(width_ratios)
        y = h - top
        for r in range(nrows):
            rh = usable_h / nrows
            axes[r, c].set_position([x / w, (y - rh) / h, cw / w, rh / h])
            y -= rh + row_gap
        x += cw + (col_gaps[c] if c < ncols - 1 else 0)


def _pin_layout(fig):
    """Run the figure's layout engine once, without drawing, and keep its
    result: with the engine removed, later draws (and savefig) neither run
    the layout again nor draw an extra time to prepare for it."""
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)


def _freeze_layout(fig, dpi):
    """Lay the figure out once and return the area to save, in inches.

    savefig(bbox_inches="tight") with a layout engine draws the figure once
    more per file just to measure it, and the constrained layout runs on
    every draw: most of the time went there.  Here the layout runs once; it
    keeps nearly everything inside the figure, so unless a text sticks out
    (see _sticks_out) the saved area is the whole figure and a white margin,
    with nothing to measure (measuring cost a sixth of the drawing time)."""
    from matplotlib.transforms import Bbox
    # At the PNG's resolution, as savefig would (text extents round to whole
    # pixels).
    fig.set_dpi(dpi)
    _pin_layout(fig)
    if _sticks_out(fig):
        return fig.get_tightbbox(fig.canvas.get_renderer()).padded(SAVE_MARGIN)
    w, h = fig.get_size_inches()
    return Bbox.from_bounds(-SAVE_MARGIN, -SAVE_MARGIN, w + 2 * SAVE_MARGIN, h + 2 * SAVE_MARGIN)


def _sticks_out(fig):
    """Whether a text reaches past the figure's edge.  The constrained layout
    leaves out the width of axes titles and x labels (a long title over a
    narrow axes overhangs it) and the height of y labels, the figure's own
    texts, and texts placed after it ran (the centroid labels): those are
    the ones looked at.  (Titles and axis labels are put in place across
    their other direction only when drawn, hence one direction each.)"""
    renderer = fig.canvas.get_renderer()
    edge = fig.bbox.padded(0.5)

    def across(t):
        bb = t.get_window_extent(renderer)
        return bb.x0 < edge.x0 or bb.x1 > edge.x1

    def up(t):
        bb = t.get_window_extent(renderer)
        return bb.y0 < edge.y0 or bb.y1 > edge.y1

    checks = [(t, (across, up)) for t in fig.texts]
    checks += [(t, (across, up)) for t in (getattr(fig, "_suptitle", None),
                                          getattr(fig, "_supxlabel", None)) if t is not None]
    for ax in fig.axes:
        if ax.get_visible():
            checks += [(ax.title, (across,)), (ax.xaxis.label, (across,)), (ax.yaxis.label, (up,))]
            checks += [(t, (across, up)) for t in ax.texts]
    return any(t.get_visible() and t.get_text().strip() and any(f(t) for f in tests)
               for t, tests in checks)


def _save(fig, path, fmt, dpi, bbox):
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    try:
        if fmt == "svg":
            extra = {"metadata": {"Date": None}}
        else:
            # zlib's fastest level: a third of the PNG time went into level 6
            # compression, for files about a fifth smaller.
            extra = {"metadata": {"Software": None}, "pil_kwargs": {"compress_level": 1}}
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches=bbox, facecolor="white", **extra)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _draw(plt, name, data, fig_dir, dpi):
    """Build one figure and write its PNG and SVG."""
    fig = BUILDERS[name](plt, data)
    try:
        bbox = _freeze_layout(fig, dpi)
        for ext in ("png", "svg"):
            _save(fig, os.path.join(fig_dir, f"{name}.{ext}"), ext, dpi, bbox)
    finally:
        plt.close(fig)


def _cost(name, data):
    """Rough drawing time of a figure, in tenths of a second, as measured on
    the reference run in a fresh process, to share the figures out evenly."""
    d = len(data["feature_names"])
    return {"distributions": 0.8 + 2.4 * min(d, MAX_DISTRIBUTION_FEATURES), "model_selection": 5.0, "segmentation": 2.8,
            "silhouette": 1.6, "persona_profile": 0.8 + 0.5 * min(d, MAX_PROFILE_FEATURES)}[name]


def _share_out(names, data, workers):
    """The figures in at most `workers` groups, the most costly group as
    cheap as can be (five figures: every assignment is tried)."""
    import itertools
    if workers >= len(names):
        return [[name] for name in names]
    cost = [_cost(name, data) for name in names]
    best = None
    for owner in itertools.product(range(workers), repeat=len(names)):
        load = [0.0] * workers
        for c, w in zip(cost, owner):
            load[w] += c
        if best is None or max(load) < best[0]:
            best = (max(load), owner)
    groups = [[n for n, w in zip(names, best[1]) if w == g] for g in range(workers)]
    return [g for g in groups if g]


def _draw_group(plt, names, data, fig_dir, dpi, report):
    """Draw figures one after the other, calling report(name) for each that
    was written; a figure that fails prints its traceback and the rest go on."""
    for name in names:
        try:
            _draw(plt, name, data, fig_dir, dpi)
        except Exception:
            import traceback
            traceback.print_exc()
            continue
        report(name)


def _die_with_parent(parent):
    """In a forked child: the kernel kills it (SIGKILL) when its parent
    dies, as archetype does for this process, so that a killed run leaves
    nothing drawing into its abandoned folder.  Where prctl is missing (not
    Linux), nothing changes."""
    try:
        import ctypes
        import signal
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:                         # it died before prctl took effect
        os._exit(1)


def _draw_in_parallel(plt, names, data, fig_dir, dpi):
    """Draw the figures in as many processes as there are cores; returns the
    set of figures written.

    The figures are independent and each is a few tenths of a second of
    pure-Python drawing, so drawing them side by side is most of the
    speed-up.  The children are forked after matplotlib and the inputs are
    loaded, so the imports (a quarter of the run) are shared, not repeated;
    one group per core, this process drawing one of them, so that each
    process warms up once (a process's first figure is the slowest).  Each
    child tells the parent through a pipe which figures it wrote; where the
    system refuses a process, its group is drawn here."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    groups = _share_out(names, data, max(1, min(cores, len(names))))
    written = set()
    children = []
    parent = os.getpid()
    for group in groups[1:]:
        try:
            r, w = os.pipe()
            pid = os.fork()
        except OSError:
            groups[0] = groups[0] + group
            continue
        if pid == 0:                                   # the child
            _die_with_parent(parent)
            os.close(r)
            code = 0
            try:
                _draw_group(plt, group, data, fig_dir, dpi,
                            lambda name: os.write(w, (name + "\n").encode()))
            except BaseException:                      # ^C reaches the parent too
                code = 130
            finally:
                sys.stderr.flush()
                os._exit(code)                         # no atexit, no parent's buffers
        os.close(w)
        children.append((pid, r))
    _draw_group(plt, groups[0], data, fig_dir, dpi, written.add)
    for pid, r in children:
        with os.fdopen(r, "rb") as f:
            written.update(f.read().decode().split())
        os.waitpid(pid, 0)
    return written


# ---------------------------------------------------------------------------
def _parse_args(argv):
    ap = argparse.ArgumentParser(prog=PROG, description="Draw Archetype's figures from an output folder.")
    ap.add_argument("out_dir", metavar="OUT_DIR", help="folder written by `archetype`")
    ap.add_argument("--only", metavar="NAME[,NAME]",
                    help="draw only these figures: " + ", ".join(FIGURES))
    ap.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150)")
    ap.add_argument("--wait", action="store_true",
                    help="import and warm up first, then wait for a line 'go' on stdin before "
                         "reading OUT_DIR (archetype starts the script this way while it computes); "
                         "end of input without 'go' exits 0 without drawing")
    args = ap.parse_args(argv)
    if args.only is not None:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in FIGURES]
        if unknown or not wanted:
            ap.error(f"--only: unknown figure {', '.join(unknown) or '(none given)'}; "
                     f"choose from {', '.join(FIGURES)}")
        args.selected = [f for f in FIGURES if f in wanted]
    else:
        args.selected = list(FIGURES)
    if not 20 <= args.dpi <= 1200:
        ap.error("--dpi must be between 20 and 1200")
    return args


def _warm_up(plt, dpi):
    """Draw and save a small throw-away figure with the texts, markers and
    bars the real ones use, into memory: the first figure a process draws
    pays for loading the fonts and the renderers (a tenth of a second or
    more), and this runs while archetype is still computing.  The children
    forked later inherit what it loaded."""
    import io
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.bar([0, 1], [1, 2], color="#56B4E9")
    ax.plot([0, 1], [1, 2], "-o", ms=4)
    ax.set_title("warm-up", fontweight="semibold")
    ax.set_xlabel("k (\u2212)")
    ax.text(0.5, 0.5, "x", path_effects=_halo())
    for fmt in ("png", "svg"):
        fig.savefig(io.BytesIO(), format=fmt, dpi=dpi)
    plt.close(fig)


# Exit status when matplotlib or numpy cannot be imported: the runner then
# skips the figures with an install hint instead of reporting a failure.
EXIT_NO_LIBRARIES = 3


def main(argv=None):
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    # One BLAS thread: matplotlib's few small matrix inversions do not need
    # more, and OpenBLAS's idle threads spin, taking a core from the figures
    # drawn side by side (half a second of system time a run).  Set before
    # numpy is first imported.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import matplotlib  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"{PROG}: {e}; install python3-numpy and python3-matplotlib and run with "
              f"/usr/bin/python3", file=sys.stderr)
        return EXIT_NO_LIBRARIES
    plt = _setup_matplotlib()
    if args.wait:
        _warm_up(plt, args.dpi)
        # Everything below needs the inputs, which archetype is still
        # writing: wait for its word.
        if sys.stdin.readline().strip() != "go":
            return 0
    if not os.path.isdir(args.out_dir):
        print(f"{PROG}: {args.out_dir} is not a folder", file=sys.stderr)
        return 2
    try:
        data, skipped = load_inputs(args.out_dir, args.selected)
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    fig_dir = os.path.join(args.out_dir, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    todo = [name for name in args.selected if name not in skipped]
    sys.stdout.flush()                                 # nothing buffered twice by a fork
    sys.stderr.flush()
    if hasattr(os, "fork"):
        written = _draw_in_parallel(plt, todo, data, fig_dir, args.dpi)
    else:
        written = set()
        _draw_group(plt, todo, data, fig_dir, args.dpi, written.add)
    failed = []
    for name in args.selected:
        if name in skipped:
            print(f"{PROG}: skipped {name}: {skipped[name]}", file=sys.stderr)
        elif name not in written:
            failed.append(name)
        else:
            for ext in ("png", "svg"):
                print(os.path.join(fig_dir, f"{name}.{ext}"), flush=True)
    if failed:
        # The tracebacks are above; this line is what the runner reports.
        print(f"{PROG}: drawing failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    # Straight out: the files are written and renamed into place, and
    # tearing down an interpreter with matplotlib loaded takes a tenth of a
    # second more.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
