#!/usr/bin/env bash
# CI: `pip install .` of the Python package into a fresh virtual
# environment made with --system-site-packages (Debian's NumPy and
# scikit-learn stay visible), then import it from elsewhere and fit.
# CPU-only (ARCHETYPE_CUDA=OFF) to stay fast; needs PyPI for the build
# requirements (scikit-build-core, pybind11).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
start=$(date +%s)
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check \
  --config-settings=cmake.define.ARCHETYPE_CUDA=OFF --config-settings=build-dir="$tmp/build" .
echo "test_pip_install: pip install took $(( $(date +%s) - start )) s"
cd "$tmp"
"$tmp/venv/bin/python" - <<'PY'
import os
import sys

import numpy as np

import archetype

assert archetype.__file__.startswith(sys.prefix), archetype.__file__  # the venv's copy
rng = np.random.default_rng(0)
X = np.concatenate([rng.normal(0, 0.3, (200, 2)), rng.normal(4, 0.3, (200, 2))]).astype(np.float32)
km = archetype.KMeans(n_clusters=2, random_state=0).fit(X)
assert sorted(np.bincount(km.labels_)) == [200, 200], np.bincount(km.labels_)
assert archetype.silhouette_score(X, km.labels_) > 0.8
s = archetype.study(n_init=2)  # the reference dataset and persona catalog shipped in the package
assert s.k == 5 and s.result.input.path.startswith(sys.prefix), s.result.input.path
print("test_pip_install: ok,", archetype.__version__, os.path.dirname(archetype.__file__))
PY
