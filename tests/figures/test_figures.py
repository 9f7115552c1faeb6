#!/usr/bin/python3
"""Tests for scripts/figures.py.

  /usr/bin/python3 tests/figures/test_figures.py

Runs the generator (with this interpreter, which must have numpy and
matplotlib: Debian's /usr/bin/python3) on the fixtures in fixtures/ copied
into temporary folders, and checks what it writes, what it prints and how it
fails.  fixtures/reference is the reference data's real `archetype run` plus
synthesised histogram/density and figure_*.csv files; fixtures/density is a
10,000,000-creator look-alike on a 64 x 64 grid (see make_fixtures.py).
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
SCRIPT = os.path.join(ROOT, "scripts", "figures.py")
FIXTURES = os.path.join(HERE, "fixtures")
NAMES = ("distributions", "model_selection", "segmentation", "silhouette", "persona_profile")


def run(out_dir, *args):
    p = subprocess.run([sys.executable, SCRIPT, out_dir, *args], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class FiguresTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="archetype-figures-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fixture(self, name):
        dst = os.path.join(self.tmp, name)
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
        names = ["model_selection", "persona_profile", "silhouette"]
        out_dir = self.fixture("reference")
        rc, out, err = run(out_dir, "--only", ",".join(names), "--dpi", "60")
        self.assertEqual(rc, 0, err)
        baseline_dir = os.path.join(HERE, "baseline")
        for name in names:
            got_path = os.path.join(out_dir, "figures", name + ".png")
            want_path = os.path.join(baseline_dir, name + ".png")
            if os.environ.get("ARCHETYPE_UPDATE_BASELINES"):
                os.makedirs(baseline_dir, exist_ok=True)
                shutil.copyfile(got_path, want_path)
                continue
            got, want = mpimg.imread(got_path), mpimg.imread(want_path)
            self.assertEqual(got.shape, want.shape, name)
            diff = float(np.abs(got[..., :3] - want[..., :3]).mean())
            self.assertLess(diff, 0.005, f"{name}: mean pixel difference {diff:.4f}")

    # -- whole runs ---------------------------------------------------------
    def test_reference_run_writes_all_figures(self):
        out_dir = self.fixture("reference")
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
        path = os.path.join(out_dir, "figure_silhouette.csv")
        with open(path) as f:
            lines = f.readlines()
        lines[0] = "cluster,score\n"
        with open(path, "w") as f:
            f.writelines(lines)
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
