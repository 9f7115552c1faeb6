#!/usr/bin/env python3
"""The report reads on a desktop and on a phone: report.html, opened in
headless Chromium at 1280 and 400 px wide, never makes the page scroll
sideways (wide tables scroll inside their own box), and shows its persona
cards before the appendix.

    check_report_layout.py ARCHETYPE_BINARY

Runs `archetype run` on a generated six-feature table with a text column
and a handle (not the reference dataset) into a scratch folder.  Exit 0:
fine; 1: a check failed (printed); 77: no chromium (ctest skips).
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def page_overflow(browser, html, width):
    """How many pixels the page is wider than a `width`-pixel window."""
    probe = html.replace(
        "</body>",
        '<script>document.body.setAttribute("data-overflow",'
        " String(document.documentElement.scrollWidth - window.innerWidth));</script></body>")
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as f:
        f.write(probe)
    try:
        dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                              f"--window-size={width},900", "--dump-dom", "file://" + f.name],
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        os.unlink(f.name)
    m = re.search(r'data-overflow="(-?\d+)"', dom)
    if not m:
        raise RuntimeError("chromium gave no layout for the report")
    return int(m.group(1))


def main():
    browser = chromium()
    if browser is None:
        print("check_report_layout: no chromium: skipped")
        return 77
    archetype = sys.argv[1]
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        table = os.path.join(tmp, "shops.csv")
        with open(table, "w") as f:
            f.write("handle,region,orders_per_month,basket_usd,returns_rate,reviews,visits,tenure_months\n")
            for i in range(1500):
                g = i % 4
                row = [rng.lognormvariate(3 + g * 0.5, 0.6), rng.gauss(40 + 15 * g, 8), rng.betavariate(2 + g, 20),
                       rng.expovariate(0.1) * (1 + g), rng.lognormvariate(6, 1), rng.uniform(1, 60)]
                f.write(f"@shop{i},{'NESW'[g]}," + ",".join(f"{v:.4f}" for v in row) + "\n")
        out = os.path.join(tmp, "out")
        r = subprocess.run([archetype, "run", table, "--out", out, "--threads", "2", "--quiet"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            print(r.stderr)
            return 1
        html = open(os.path.join(out, "report.html"), encoding="utf-8").read()
        failures = []
        for width in (1280, 400):
            over = page_overflow(browser, html, width)
            print(f"check_report_layout: {width} px: page overflow {over} px")
            if over > 0:
                failures.append(f"at {width} px the page is {over} px wider than the window")
        if html.find('class="card"') < 0 or html.find('class="card"') > html.find("Appendix"):
            failures.append("no persona card before the appendix")
        for f in failures:
            print("check_report_layout: FAIL:", f)
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
