"""Long calls release the GIL: a second Python thread keeps counting
while Rust computes."""

import threading
import time

import numpy as np

from fanaroff import calibrate


def test_a_long_call_lets_other_threads_run():
    rng = np.random.default_rng(0)
    n = 3_000_000
    p1 = rng.random(n)
    p = np.stack([p1, 1 - p1], axis=1)
    y = rng.integers(0, 2, n)
    calibrate.auroc(p1, y == 1)  # warm up

    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    for _ in range(3):
        calibrate.auroc(p1, y == 1)  # a sort of 3e6 scores in Rust
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    # with the GIL held the counter could not tick during the calls
    assert end - start > 0.05, "the calls were too short to tell"
    assert len(during) >= 10, f"{len(during)} ticks in {end - start:.3f} s"
