#!/usr/bin/python3
"""Tests for scripts/figures.py.

  /usr/bin/python3 tests/figures/test_figures.py

Runs the generator (with this interpreter, which must have numpy and
matplotlib: Debian's /usr/bin/python3) on the fixtures in fixtures/ copied
into temporary folders, and checks what it writes, what it prints and how it
fails.  fixtures/reference is the reference data's real `archetype run` plus
synthesised histogram/density and figure_*.csv files; fixtures/density is a
10,000,000-creator look-alike on a 64 x 64 grid; fixtures/pca4 is a run on a
four-feature table with the "projection" object and principal-component
points (see make_fixtures.py).  Some tests build a figure in this process
(importing scripts/figures.py) to look at where its texts and bars landed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT_DIR = os.path.join(ROOT, "scripts")
SCRIPT = os.path.join(SCRIPT_DIR, "figures.py")
FIXTURES = os.path.join(HERE, "fixtures")
NAMES = ("distributions", "model_selection", "segmentation", "silhouette", "persona_profile")


def figures_module():
    """scripts/figures.py imported, with matplotlib set up as it sets it up."""
    if SCRIPT_DIR not in sys.path:
        sys.path.insert(0, SCRIPT_DIR)
    import figures
    figures._setup_matplotlib()
    return figures


def build(out_dir, name, dpi=60):
    """Build one figure from a folder as the script does and lay it out.
    Returns (module, data, figure)."""
    F = figures_module()
    import matplotlib.pyplot as plt
    data, skipped = F.load_inputs(out_dir, [name])
    assert name not in skipped, skipped
    fig = F.BUILDERS[name](plt, data)
    F._freeze_layout(fig, dpi)
    return F, data, fig


def drawn_texts(fig):
    """(Text, display bbox) of every text that a full draw actually renders:
    tick labels outside the view and empty or hidden texts are left out,
    which looking the texts up on the figure would not."""
    from matplotlib.text import Text
    drawn = []
    original = Text.draw

    def record(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append((self, self.get_window_extent(renderer)))
        return original(self, renderer)
    Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    return drawn


def overlap(a, b, slack=1.0):
    """Whether two display boxes overlap by more than `slack` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack and
            min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def replace_header(path, header):
    with open(path) as f:
        lines = f.readlines()
    lines[0] = header + "\n"
    with open(path, "w") as f:
        f.writelines(lines)


def run(out_dir, *args):
    p = subprocess.run([sys.executable, SCRIPT, out_dir, *args], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class FiguresTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="archetype-figures-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fixture(self, name, copy=""):
        dst = os.path.join(self.tmp, name + copy)
        shutil.copytree(os.path.join(FIXTURES, name), dst)
        return dst

    def edit_summary(self, out_dir, change):
        path = os.path.join(out_dir, "summary.json")
        with open(path) as f:
            summary = json.load(f)
        change(summary)
        with open(path, "w") as f:
            json.dump(summary, f)

    def assert_figures(self, out_dir, names, stdout):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.image as mpimg
        fig_dir = os.path.join(out_dir, "figures")
        expected = [os.path.join(fig_dir, f"{n}.{ext}") for n in names for ext in ("png", "svg")]
        self.assertEqual(stdout.splitlines(), expected)
        for path in expected:
            self.assertTrue(os.path.isfile(path), path)
            self.assertGreater(os.path.getsize(path), 5_000, path)
            if path.endswith(".png"):
                img = mpimg.imread(path)
                self.assertGreater(img.shape[0], 200, path)
                self.assertGreater(img.shape[1], 500, path)
                self.assertGreater(float(img[..., :3].std()), 0.02, f"{path} looks blank")
            else:
                with open(path, encoding="utf-8") as f:
                    head = f.read(2000)
                self.assertIn("<svg", head, path)
        # Nothing else in the folder: no temporary files left behind.
        self.assertEqual(sorted(os.listdir(fig_dir)), sorted(os.path.basename(p) for p in expected))

    def assert_input_error(self, out_dir, *args, mentions=None):
        rc, out, err = run(out_dir, *args)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        if mentions:
            self.assertIn(mentions, err)
        fig_dir = os.path.join(out_dir, "figures")
        self.assertFalse(os.path.exists(fig_dir) and os.listdir(fig_dir), "figures written")

    # -- image comparison -------------------------------------------------------
    BASELINES = (("reference", ("model_selection", "persona_profile", "silhouette"), ""),
                 ("pca4", ("persona_profile",), "_pca4"))

    def test_images_match_baselines(self):
        """Pixel comparison at low tolerance with baselines rendered by Debian 12's
        matplotlib 3.6.3 (what scripts/install_deps.sh installs).  Where the
        platform legitimately changes, regenerate them with
        ARCHETYPE_UPDATE_BASELINES=1 /usr/bin/python3 tests/figures/test_figures.py
        and look at them before committing."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.image as mpimg
        import numpy as np
        baseline_dir = os.path.join(HERE, "baseline")
        for fixture, names, suffix in self.BASELINES:
            out_dir = self.fixture(fixture)
            rc, out, err = run(out_dir, "--only", ",".join(names), "--dpi", "60")
            self.assertEqual(rc, 0, err)
            for name in names:
                got_path = os.path.join(out_dir, "figures", name + ".png")
                want_path = os.path.join(baseline_dir, name + suffix + ".png")
                if os.environ.get("ARCHETYPE_UPDATE_BASELINES"):
                    os.makedirs(baseline_dir, exist_ok=True)
                    shutil.copyfile(got_path, want_path)
                    continue
                got, want = mpimg.imread(got_path), mpimg.imread(want_path)
                self.assertEqual(got.shape, want.shape, name + suffix)
                diff = float(np.abs(got[..., :3] - want[..., :3]).mean())
                self.assertLess(diff, 0.005, f"{name}{suffix}: mean pixel difference {diff:.4f}")

    # -- whole runs ---------------------------------------------------------
    def test_reference_and_pca_runs_write_all_figures(self):
        for fixture in ("reference", "pca4"):
            with self.subTest(fixture=fixture):
                out_dir = self.fixture(fixture)
                rc, out, err = run(out_dir)
                self.assertEqual(rc, 0, err)
                self.assertEqual(err, "")
                self.assert_figures(out_dir, NAMES, out)

    def test_density_run_writes_all_figures(self):
        # (No timed assertion here: the 10M-creator figure time is measured
        # and recorded in bench/RESULTS.md, not asserted.)
        out_dir = self.fixture("density")
        rc, out, err = run(out_dir)
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, NAMES, out)

    # -- options ------------------------------------------------------------
    def test_only_and_dpi(self):
        out_dir = self.fixture("reference")
        rc, out, err = run(out_dir, "--only", "persona_profile,silhouette", "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("silhouette", "persona_profile"), out)
        import matplotlib.image as mpimg
        low = mpimg.imread(os.path.join(out_dir, "figures", "persona_profile.png")).shape
        rc, out, err = run(out_dir, "--only", "persona_profile", "--dpi", "120")
        self.assertEqual(rc, 0, err)
        high = mpimg.imread(os.path.join(out_dir, "figures", "persona_profile.png")).shape
        self.assertAlmostEqual(high[1] / low[1], 2.0, delta=0.1)

    def test_wait_draws_only_after_go(self):
        """--wait (how archetype starts the script while it computes): the
        inputs are read only after 'go', so they may be written after the
        start; end of input without 'go' draws nothing and exits 0."""
        out_dir = os.path.join(self.tmp, "later")
        os.makedirs(out_dir)
        p = subprocess.Popen([sys.executable, SCRIPT, out_dir, "--wait", "--only", "silhouette"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        shutil.rmtree(out_dir)
        shutil.copytree(os.path.join(FIXTURES, "reference"), out_dir)  # written after the start
        out, err = p.communicate("go\n", timeout=120)
        self.assertEqual(p.returncode, 0, err)
        self.assert_figures(out_dir, ("silhouette",), out)
        empty = self.fixture("reference")
        p = subprocess.run([sys.executable, SCRIPT, empty, "--wait"], input="", capture_output=True,
                           text=True, timeout=120)
        self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)
        self.assertFalse(os.path.exists(os.path.join(empty, "figures")))

    def test_unknown_figure_is_a_usage_error(self):
        out_dir = self.fixture("reference")
        rc, out, err = run(out_dir, "--only", "pie_chart")
        self.assertEqual(rc, 2)
        self.assertIn("pie_chart", err)
        self.assertFalse(os.path.exists(os.path.join(out_dir, "figures")))

    # -- runs without a sweep or a model ------------------------------------
    def test_profile_only_run_skips_the_rest(self):
        out_dir = self.fixture("reference")
        self.edit_summary(out_dir, lambda s: (s.pop("sweep"), s.pop("suggested_k"), s.pop("model")))
        for f in ("figure_points.csv", "figure_silhouette.csv"):
            os.remove(os.path.join(out_dir, f))
        rc, out, err = run(out_dir, "--dpi", "72")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("distributions",), out)
        skipped = [line for line in err.splitlines() if "skipped" in line]
        self.assertEqual(len(skipped), 4, err)

    def test_fit_only_run_with_null_silhouette(self):
        out_dir = self.fixture("reference")

        def change(s):
            s.pop("sweep")
            s["model"]["silhouette"] = None
            for c in s["model"]["clusters"]:
                c["silhouette"] = None
            s["model"]["clusters"][0]["relative_importance"][1] = None
        self.edit_summary(out_dir, change)
        os.remove(os.path.join(out_dir, "figure_silhouette.csv"))
        rc, out, err = run(out_dir, "--only", "model_selection,silhouette,persona_profile",
                           "--dpi", "72")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("persona_profile",), out)
        self.assertIn("skipped model_selection", err)
        self.assertIn("skipped silhouette", err)

    def test_sweep_with_nulls_and_disagreement(self):
        out_dir = self.fixture("reference")

        def change(s):
            s["suggested_k"] = {"elbow": 3, "silhouette": None}
            for r in s["sweep"]:
                r["silhouette"] = r["davies_bouldin"] = None
        self.edit_summary(out_dir, change)
        rc, out, err = run(out_dir, "--only", "model_selection", "--dpi", "72")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("model_selection",), out)

    def test_unknown_personas_get_colours(self):
        out_dir = self.fixture("reference")

        def change(s):
            s["model"]["clusters"][1]["persona"] = "High Engagement, Low Monetization"
            s["model"]["clusters"][3]["persona"] = "Low Engagement, High Monetization (2)"
        self.edit_summary(out_dir, change)
        rc, out, err = run(out_dir, "--only", "segmentation", "--dpi", "72")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("segmentation",), out)

    # -- many personas: the largest named, the rest drawn, pooled or counted --
    def with_clusters(self, out_dir, k):
        """Spread the pca4 fixture's 1,500 creators over k clusters (row r in
        cluster r * 7 % k, so sizes differ by at most one; then cluster j gives
        its first j % 5 rows to cluster 0, so that sizes differ), with
        made-up personas."""
        import numpy as np
        pts = os.path.join(out_dir, "figure_points.csv")
        sil = os.path.join(out_dir, "figure_silhouette.csv")
        sizes = [0] * k
        for path in (pts, sil):
            with open(path) as f:
                lines = f.read().splitlines()
            out, seen = [lines[0]], [0] * k
            for r, line in enumerate(lines[1:]):
                c = r * 7 % k
                seen[c] += 1
                if seen[c] <= c % 5:
                    c = 0
                cells = line.split(",")
                cells[2 if path == pts else 0] = str(c)
                out.append(",".join(cells))
                if path == pts:
                    sizes[c] += 1
            with open(path, "w") as f:
                f.write("\n".join(out) + "\n")

        def change(s):
            base = s["model"]["clusters"][0]
            rng = np.random.default_rng(k)
            clusters = []
            for j in range(k):
                c = dict(base)
                c.update(id=j, size=sizes[j], share=sizes[j] / 1500, persona=f"Segment {j}",
                         relative_importance=[float(v) for v in rng.normal(0, 0.5, 4)])
                clusters.append(c)
            s["model"]["clusters"] = clusters
            s["model"]["k"] = k
        self.edit_summary(out_dir, change)
        return sizes

    def test_many_personas_name_the_largest(self):
        out_dir = self.fixture("pca4")
        k = 45
        sizes = self.with_clusters(out_dir, k)
        F, data, fig = build(out_dir, "segmentation")
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        self.assertEqual(len(legend), F.MAX_NAMED_PERSONAS + 2)         # + the rest + the centre
        rest = sorted(range(k), key=lambda i: -sizes[i])[F.MAX_NAMED_PERSONAS:]
        share = 100 * sum(sizes[i] for i in rest) / 1500
        self.assertIn(f"and 15 smaller personas ({share:.1f}%)", legend)
        shown = [t.get_text() for t, _ in drawn_texts(fig)]
        for i in rest:                                   # not labelled on the plot
            self.assertNotIn(f"Segment {i}", shown)
        F, data, fig = build(out_dir, "persona_profile")
        self.assertIn(f"the 30 largest of {k} personas", fig._suptitle.get_text())
        self.assertEqual(len(fig.axes[0].get_yticklabels()), F.MAX_NAMED_PERSONAS)
        F, data, fig = build(out_dir, "silhouette")
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        self.assertEqual(len(labels), F.MAX_NAMED_PERSONAS + 1)
        self.assertEqual(labels[0], f"15 smaller personas\n({share:.1f}%)")   # the pooled band, at the bottom
        rc, out, err = run(out_dir, "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, NAMES, out)

    # -- more than two features: the PCA projection -------------------------
    def test_pca_segmentation_says_what_it_shows(self):
        out_dir = self.fixture("pca4")
        F, data, fig = build(out_dir, "segmentation")
        ax = fig.axes[0]
        proj = data["projection"]
        self.assertIn("PCA projection of the 4 features", ax.get_title())
        self.assertEqual((ax.get_xlabel(), ax.get_ylabel()), tuple(proj["axes"]))
        self.assertTrue(proj["axes"][0].startswith("PC1 ("), proj["axes"])
        # The centres are the means of the plotted points (no centroid in
        # original units on PCA axes).
        import numpy as np
        pts = data["points"]
        want = sorted((round(float(pts["x"][pts["idx"] == i].mean()), 6),
                       round(float(pts["y"][pts["idx"] == i].mean()), 6))
                      for i in range(len(data["model"]["clusters"])))
        got = sorted((round(float(line.get_xdata()[0]), 6), round(float(line.get_ydata()[0]), 6))
                     for line in ax.lines if line.get_marker() == "x")
        self.assertEqual(got, want)
        for c in data["model"]["clusters"]:
            self.assertFalse(np.isclose(got, c["centroid"][:2]).all(axis=1).any())
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        self.assertIn("cluster centre (mean of its creators)", legend)

    def test_two_feature_segmentation_names_its_features(self):
        out_dir = self.fixture("reference")
        F, data, fig = build(out_dir, "segmentation")
        ax = fig.axes[0]
        self.assertIn("Engagement Index vs Monetization Maturity", ax.get_title())
        self.assertNotIn("PCA", ax.get_title())
        got = sorted((round(float(line.get_xdata()[0]), 6), round(float(line.get_ydata()[0]), 6))
                     for line in ax.lines if line.get_marker() == "x")
        want = sorted((round(c["centroid"][0], 6), round(c["centroid"][1], 6))
                      for c in data["model"]["clusters"])
        self.assertEqual(got, want)

    def test_pca_density(self):
        # Above 200,000 rows the C++ side bins pc1/pc2 instead: same file as
        # in original units, built here from the fixture's points.
        import numpy as np
        out_dir = self.fixture("pca4")
        path = os.path.join(out_dir, "figure_points.csv")
        a = np.loadtxt(path, delimiter=",", skiprows=1)
        os.remove(path)
        xe = np.linspace(a[:, 0].min(), a[:, 0].max(), 41)
        ye = np.linspace(a[:, 1].min(), a[:, 1].max(), 31)
        clusters = []
        for cid in np.unique(a[:, 2]).astype(int):
            sel = a[:, 2] == cid
            h, _, _ = np.histogram2d(a[sel, 1], a[sel, 0], bins=[ye, xe])
            clusters.append({"id": int(cid), "counts": h.astype(int).tolist()})
        with open(os.path.join(out_dir, "figure_density.json"), "w") as f:
            json.dump({"x_edges": xe.tolist(), "y_edges": ye.tolist(), "clusters": clusters}, f)
        rc, out, err = run(out_dir, "--only", "segmentation", "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("segmentation",), out)
        F, data, fig = build(out_dir, "segmentation")
        ax = fig.axes[0]
        self.assertIn("PCA projection of the 4 features", ax.get_title())
        centres = sorted((line.get_xdata()[0], line.get_ydata()[0])
                         for line in ax.lines if line.get_marker() == "x")
        means = sorted((a[a[:, 2] == c, 0].mean(), a[a[:, 2] == c, 1].mean())
                       for c in np.unique(a[:, 2]))
        cell = (xe[1] - xe[0], ye[1] - ye[0])
        for (gx, gy), (mx, my) in zip(centres, means):
            self.assertLess(abs(gx - mx), cell[0])
            self.assertLess(abs(gy - my), cell[1])

    def test_projection_needs_the_pc_header(self):
        out_dir = self.fixture("pca4")
        replace_header(os.path.join(out_dir, "figure_points.csv"), "x,y,cluster")
        self.assert_input_error(out_dir, mentions="figure_points.csv")

    def test_projection_must_match_the_features(self):
        out_dir = self.fixture("pca4")
        self.edit_summary(out_dir, lambda s: s["projection"].update(features=3))
        self.assert_input_error(out_dir, mentions="projection.features")

    def test_projection_axes_malformed(self):
        out_dir = self.fixture("pca4")
        self.edit_summary(out_dir, lambda s: s["projection"].update(axes=["PC1"]))
        self.assert_input_error(out_dir, mentions="projection.axes")
        self.edit_summary(out_dir, lambda s: s["projection"].update(axes=["PC1", ""]))
        self.assert_input_error(out_dir, mentions="projection.axes[1]")

    # -- persona_profile at any number of features ----------------------------
    def with_features(self, out_dir, d):
        """Give the fixture's model d features (the first ones kept, the rest
        made up, with relative importances from a few percent to a few
        thousand percent and one null)."""
        import numpy as np

        def change(s):
            names = s["input"]["feature_names"]
            rng = np.random.default_rng(d)
            extra = [f"Made-up metric number {j} (per week)" for j in range(len(names), d)]
            s["input"]["feature_names"] = (names + extra)[:d]
            for i, c in enumerate(s["model"]["clusters"]):
                ri = c["relative_importance"] + [
                    float(rng.normal() * 10.0 ** (j % 4 - 2)) for j in range(len(names), d)]
                c["relative_importance"] = ri[:d]
                c["centroid"] = (c["centroid"] + [1.0] * d)[:d]
            if d > 2:
                s["model"]["clusters"][1]["relative_importance"][2] = None
            s.pop("projection", None)
        self.edit_summary(out_dir, change)

    def assert_profile_readable(self, fig, panels):
        from matplotlib.patches import Rectangle
        axes = [ax for ax in fig.axes if ax.get_visible()]
        self.assertEqual(len(axes), panels)
        texts = drawn_texts(fig)
        renderer = fig.canvas.get_renderer()
        for i, (t, a) in enumerate(texts):
            for u, b in texts[i + 1:]:
                self.assertFalse(overlap(a, b), f"{t.get_text()!r} overlaps {u.get_text()!r}")
        for ax in axes:
            lo, hi = ax.get_xlim()
            self.assertAlmostEqual(lo, -hi)
            box = ax.get_window_extent(renderer)
            bars = [p.get_window_extent(renderer) for p in ax.patches
                    if isinstance(p, Rectangle) and p.get_visible()]
            for t, bb in texts:
                if t.axes is not ax or t not in ax.texts:
                    continue
                # Value labels stay inside their panel and off the bars.
                self.assertGreaterEqual(bb.x0, box.x0 - 1, t.get_text())
                self.assertLessEqual(bb.x1, box.x1 + 1, t.get_text())
                for bar in bars:
                    self.assertFalse(overlap(bb, bar), f"{t.get_text()!r} over a bar")
        return texts

    def test_persona_profile_at_1_4_and_12_features(self):
        for fixture, d in (("reference", 1), ("pca4", 4), ("pca4", 12)):
            with self.subTest(features=d):
                out_dir = self.fixture(fixture, f"-{d}")
                self.with_features(out_dir, d)
                F, data, fig = build(out_dir, "persona_profile")
                texts = self.assert_profile_readable(fig, d)
                shown = [t.get_text() for t, _ in texts]
                self.assertNotIn("features on which", fig._suptitle.get_text())
                if d > 2:
                    self.assertIn("n/a", shown)
                # Values in percent, one per persona and defined feature.
                pct = [x for x in shown if x.endswith("%") and x[0] in "+\u2212"]
                rel = [v for c in data["model"]["clusters"] for v in c["relative_importance"]
                       if v is not None]
                self.assertGreaterEqual(len(pct), len(rel))
        rc, out, err = run(out_dir, "--only", "persona_profile", "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("persona_profile",), out)

    def test_persona_profile_beyond_12_features(self):
        out_dir = self.fixture("pca4")
        self.with_features(out_dir, 20)
        F, data, fig = build(out_dir, "persona_profile")
        self.assert_profile_readable(fig, 12)
        self.assertIn("the 12 of 20 features on which the personas differ most",
                      fig._suptitle.get_text())
        # The twelve with the largest spread across personas, in their order.
        import numpy as np
        rel = np.array([c["relative_importance"] for c in data["model"]["clusters"]])
        spread = np.nanmax(rel, 0) - np.nanmin(rel, 0)
        keep = sorted(np.argsort(-spread)[:12])
        titles = [ax.get_title().replace("\n", " ") for ax in fig.axes if ax.get_visible()]
        self.assertEqual(titles, [data["feature_names"][j] for j in keep])
        rc, out, err = run(out_dir, "--only", "persona_profile", "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assert_figures(out_dir, ("persona_profile",), out)

    def test_distributions_beyond_12_features(self):
        # archetype writes figure data (QQ points, histogram, density) for
        # the first 12 features only; the figure draws those and says so.
        out_dir = self.fixture("pca4")

        def change(s):
            first = s["profile"][0]
            s["profile"] = [dict(first, name=f"metric {j}") for j in range(14)]
            for p in s["profile"][12:]:
                del p["histogram"], p["density"]
                p["qq"] = {k: p["qq"][k] for k in ("slope", "intercept", "r")}
        self.edit_summary(out_dir, change)
        F, data, fig = build(out_dir, "distributions")
        self.assertEqual(len(data["profile"]), 12)
        self.assertEqual(len([ax for ax in fig.axes if ax.get_visible()]), 24)
        self.assertIn("the first 12 of 14 features", fig._suptitle.get_text())

    def test_one_feature_run(self):
        out_dir = self.fixture("reference")
        self.with_features(out_dir, 1)
        self.edit_summary(out_dir, lambda s: s.update(profile=s["profile"][:1]))
        rc, out, err = run(out_dir, "--dpi", "60")
        self.assertEqual(rc, 0, err)
        self.assertIn("skipped segmentation", err)
        self.assert_figures(out_dir, [n for n in NAMES if n != "segmentation"], out)

    # -- silhouette: numbers off the bands ----------------------------------------
    def test_silhouette_text_stays_off_the_bands(self):
        # Silhouettes close to 1 reach the right edge, where the numbers used
        # to be; one cluster of three creators makes a band too thin for its
        # label unless the band makes room.
        out_dir = self.fixture("reference")
        path = os.path.join(out_dir, "figure_silhouette.csv")
        with open(path) as f:
            header, *rows = f.read().splitlines()
        out, small = [], 0
        for r in rows:
            c, v = r.split(",")
            if c == "1":
                small += 1
                if small > 3:
                    continue
            out.append(f"{c},{1 - (1 - float(v)) * 0.05:.6f}")
        with open(path, "w") as f:
            f.write("\n".join([header] + out) + "\n")
        F, data, fig = build(out_dir, "silhouette")
        ax = fig.axes[0]
        texts = drawn_texts(fig)
        from matplotlib.collections import PolyCollection
        from matplotlib.transforms import Bbox
        bands = [Bbox.union([p.get_extents(c.get_transform()) for p in c.get_paths()])
                 for c in ax.collections if isinstance(c, PolyCollection)]
        self.assertEqual(len(bands), len(data["model"]["clusters"]))
        self.assertGreater(max(b.x1 for b in bands),
                           ax.get_window_extent().x0 + 0.95 * ax.get_window_extent().width)
        for t, bb in texts:
            for band in bands:
                self.assertFalse(overlap(bb, band), f"{t.get_text()!r} is over a band")
        for i, (t, a) in enumerate(texts):
            for u, b in texts[i + 1:]:
                self.assertFalse(overlap(a, b), f"{t.get_text()!r} overlaps {u.get_text()!r}")

    # -- nothing cut off ------------------------------------------------------
    def test_every_text_lies_inside_the_saved_area(self):
        # The saved area is the laid-out figure unless a text sticks out of
        # it (a title longer than its axes is wide): then the tight box.
        long_name = "A feature whose name goes on and on (in thousands of units, per week)"
        cases = [("reference", None), ("pca4", None), ("reference", long_name)]
        for n, (fixture, rename) in enumerate(cases):
            out_dir = self.fixture(fixture, f"-{n}")
            if rename:
                self.edit_summary(out_dir, lambda s: s["input"]["feature_names"].__setitem__(1, rename))
            for name in NAMES:
                with self.subTest(fixture=fixture, renamed=bool(rename), figure=name):
                    F, data, fig = build(out_dir, name)
                    # Asked again (the layout is pinned already) for the area.
                    area = F._freeze_layout(fig, 60).transformed(fig.dpi_scale_trans)
                    for t, bb in drawn_texts(fig):
                        self.assertTrue(area.x0 - 1 <= bb.x0 and bb.x1 <= area.x1 + 1 and
                                        area.y0 - 1 <= bb.y0 and bb.y1 <= area.y1 + 1,
                                        f"{t.get_text()[:40]!r} is cut off")

    # -- drawing in forked children --------------------------------------------
    def test_a_figure_that_fails_is_reported_and_the_others_are_written(self):
        # Failing in the forked child, then in this (the parent) process.
        F = figures_module()
        import matplotlib.pyplot as plt
        names = ["silhouette", "persona_profile"]
        original_builder, original_share = F.BUILDERS["silhouette"], F._share_out
        for groups in ([["persona_profile"], ["silhouette"]], [["silhouette"], ["persona_profile"]]):
            with self.subTest(parent=groups[0]):
                out_dir = self.fixture("reference", "-" + groups[0][0])
                data, _ = F.load_inputs(out_dir, names)
                fig_dir = os.path.join(out_dir, "figures")
                os.makedirs(fig_dir)
                F.BUILDERS["silhouette"] = lambda plt, data: 1 / 0
                F._share_out = lambda names, data, workers: groups
                saved_stderr = os.dup(2)
                with tempfile.TemporaryFile() as err:
                    os.dup2(err.fileno(), 2)   # the traceback goes here
                    try:
                        written = F._draw_in_parallel(plt, names, data, fig_dir, 40)
                    finally:
                        sys.stderr.flush()
                        os.dup2(saved_stderr, 2)
                        os.close(saved_stderr)
                        F.BUILDERS["silhouette"], F._share_out = original_builder, original_share
                    err.seek(0)
                    self.assertIn(b"ZeroDivisionError", err.read())
                self.assertEqual(written, {"persona_profile"})
                self.assertEqual(sorted(os.listdir(fig_dir)),
                                 ["persona_profile.png", "persona_profile.svg"])

    def test_figures_are_shared_out_evenly(self):
        F = figures_module()
        data = {"feature_names": ["a", "b"]}
        groups = F._share_out(list(NAMES), data, 2)
        self.assertEqual(sorted(n for g in groups for n in g), sorted(NAMES))
        loads = [sum(F._cost(n, data) for n in g) for g in groups]
        self.assertLess(max(loads) / min(loads), 1.35, groups)
        self.assertEqual(F._share_out(["silhouette"], data, 2), [["silhouette"]])

    # -- bad inputs: exit 2, one line, nothing written ----------------------
    def test_missing_summary(self):
        out_dir = self.fixture("reference")
        os.remove(os.path.join(out_dir, "summary.json"))
        self.assert_input_error(out_dir, mentions="summary.json")

    def test_missing_out_dir(self):
        self.assert_input_error(os.path.join(self.tmp, "nope"))

    def test_summary_not_json(self):
        out_dir = self.fixture("reference")
        with open(os.path.join(out_dir, "summary.json"), "w") as f:
            f.write('{"input": ')
        self.assert_input_error(out_dir, mentions="summary.json")

    def test_histogram_edges_do_not_match_counts(self):
        out_dir = self.fixture("reference")
        self.edit_summary(out_dir, lambda s: s["profile"][1]["histogram"]["edges"].pop())
        self.assert_input_error(out_dir, mentions="profile[1].histogram")

    def test_missing_model_field(self):
        out_dir = self.fixture("reference")
        self.edit_summary(out_dir, lambda s: s["model"]["clusters"][2].pop("persona"))
        self.assert_input_error(out_dir, mentions="clusters[2].persona")

    def test_points_with_unknown_cluster(self):
        out_dir = self.fixture("reference")
        with open(os.path.join(out_dir, "figure_points.csv"), "a") as f:
            f.write("50,50,9\n")
        self.assert_input_error(out_dir, mentions="figure_points.csv")

    def test_points_malformed_row(self):
        out_dir = self.fixture("reference")
        with open(os.path.join(out_dir, "figure_points.csv"), "a") as f:
            f.write("50,abc,1\n")
        self.assert_input_error(out_dir, mentions="figure_points.csv")

    def test_no_points_and_no_density(self):
        out_dir = self.fixture("reference")
        os.remove(os.path.join(out_dir, "figure_points.csv"))
        self.assert_input_error(out_dir, mentions="figure_density.json")

    def test_silhouette_bad_header(self):
        out_dir = self.fixture("reference")
        replace_header(os.path.join(out_dir, "figure_silhouette.csv"), "cluster,score")
        self.assert_input_error(out_dir, mentions="figure_silhouette.csv")

    def test_density_grid_wrong_shape(self):
        out_dir = self.fixture("density")
        path = os.path.join(out_dir, "figure_density.json")
        with open(path) as f:
            d = json.load(f)
        d["clusters"][0]["counts"].pop()
        with open(path, "w") as f:
            json.dump(d, f)
        self.assert_input_error(out_dir, mentions="figure_density.json")

    def test_bad_input_leaves_old_figures_alone(self):
        out_dir = self.fixture("reference")
        fig_dir = os.path.join(out_dir, "figures")
        os.makedirs(fig_dir)
        old = os.path.join(fig_dir, "segmentation.png")
        with open(old, "wb") as f:
            f.write(b"previous")
        os.remove(os.path.join(out_dir, "figure_points.csv"))
        rc, out, err = run(out_dir)
        self.assertEqual(rc, 2)
        self.assertEqual(os.listdir(fig_dir), ["segmentation.png"])
        with open(old, "rb") as f:
            self.assertEqual(f.read(), b"previous")


if __name__ == "__main__":
    unittest.main(verbosity=2)
