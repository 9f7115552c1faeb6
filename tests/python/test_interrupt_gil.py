"""A long fit releases the GIL and stops on KeyboardInterrupt.

Both are tested on a fit that would run for minutes (1,000,000 x 2 rows,
k = 60, n_init = 10, tol = 0, max_iter = 300): if the GIL were held, or the
interrupt not honoured, the test would hang until ctest's timeout instead of
passing in about a second."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import archetype


@pytest.fixture(scope="module")
def big():
    return np.random.default_rng(0).normal(size=(1_000_000, 2)).astype(np.float32)


def _long_fit():
    return archetype.KMeans(n_clusters=60, n_init=10, tol=0.0, max_iter=300, random_state=0, n_threads=2)


def test_keyboard_interrupt_stops_a_long_fit(big):
    km = _long_fit()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            km.fit(big)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 30  # minutes without the interrupt
    assert not hasattr(km, "cluster_centers_")  # nothing half-fitted
    # The process and the package work on afterwards.
    small = archetype.KMeans(n_clusters=3, random_state=0).fit(big[:3000])
    assert small.cluster_centers_.shape == (3, 2)


def test_keyboard_interrupt_stops_a_sweep(big):
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            archetype.sweep(big, range(2, 60), n_init=10, tol=0.0, random_state=0, silhouette_sample_size=None)
    finally:
        timer.cancel()


def test_the_gil_is_released_while_a_fit_runs(big):
    """A Python thread keeps running while the main thread fits: its
    heartbeats never pause for the length of the fit (they would, all of it,
    with the GIL held)."""
    beats, stop = [], threading.Event()

    def heartbeat():
        while not stop.is_set():
            beats.append(time.monotonic())
            time.sleep(0.002)

    worker = threading.Thread(target=heartbeat)
    worker.start()
    # Interrupted after ~1.5 s (a fit of minutes otherwise): the window observed.
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _long_fit().fit(big)
    finally:
        timer.cancel()
        end = time.monotonic()
        stop.set()
        worker.join()
    during = [t for t in beats if start <= t <= end]
    gaps = np.diff([start] + during + [end])
    assert end - start >= 1.0
    assert len(during) > 50 and gaps.max() < 0.5 * (end - start), (len(during), gaps.max(), end - start)
