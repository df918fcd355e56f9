"""Data larger than memory: fit, transform and score a memory-mapped file without copying it.

Writes a 2,000,000 x 784 float32 ``.npy`` (about 6.3 GB; MNIST's training
images repeated, or uniform noise without ``--data``) in a temporary folder,
opens it with ``np.load(mmap_mode="r")``, fits ``Autoencoder(n_components=32,
hidden_layer_sizes=(256, 128), batch_size=256)`` for one epoch, then
transforms and scores it (``score_samples``), while a thread samples the
process's anonymous resident memory (``RssAnon`` in /proc/self/status: the
memory the process owns, not the file's pages, which the kernel can drop). Then compares streaming
throughput with the in-memory path on a 200,000-row slice: the same fit on
the slice as a memmap and as an array in memory (both warm: programs
compiled first).

Targets: peak ``RssAnon`` under 1.5 GB; streaming at least 80 % of the
in-memory throughput. Exits 1 when one is missed; skips (exit 0) where
/proc/self/status is missing (not Linux).

Usage: python benchmarks/bench_memory.py [--data ../shared/data/mnist.npz] [--rows 2000000]
"""

import argparse
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

STATUS = Path("/proc/self/status")


def rss_anon_bytes() -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


class PeakMemory:
    """Samples ``RssAnon`` every 20 ms in a thread while the block runs."""

    def __enter__(self):
        self.peak, self._running = rss_anon_bytes(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, rss_anon_bytes())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def write_memmap(path: Path, n_rows: int, data: str | None) -> None:
    """Write ``n_rows`` x 784 float32 rows, chunk by chunk (never all in memory)."""
    source = None
    if data and Path(data).exists():
        with np.load(data) as arrays:
            source = arrays["x_train"].reshape(-1, 784).astype(np.float32) / 255.0
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, 784))
    rng = np.random.default_rng(0)
    step = 50_000
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        if source is None:
            out[start:stop] = rng.random((stop - start, 784), dtype=np.float32)
        else:
            out[start:stop] = source[np.arange(start, stop) % len(source)]
    out.flush()
    del out


def timed_fit(make, X) -> float:
    start = time.perf_counter()
    make().fit(X)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/mnist.npz")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--slice", type=int, default=200_000)
    args = parser.parse_args()
    if not STATUS.exists():
        print("skipped: /proc/self/status (Linux) is needed to read RssAnon")
        return 0
    warnings.simplefilter("ignore")
    import jax

    from skae import Autoencoder

    def make():
        return Autoencoder(
            n_components=32,
            hidden_layer_sizes=(256, 128),
            batch_size=256,
            max_iter=1,
            random_state=0,
        )

    print(f"jax {jax.__version__}, backend: {jax.default_backend()}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        start = time.perf_counter()
        write_memmap(path, args.rows, args.data)
        size, seconds = path.stat().st_size / 1e9, time.perf_counter() - start
        print(f"wrote {args.rows:,} x 784 float32 ({size:.2f} GB) in {seconds:.0f} s")
        X = np.load(path, mmap_mode="r")
        baseline = rss_anon_bytes()
        with PeakMemory() as memory:
            start = time.perf_counter()
            model = make().fit(X)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            codes = model.transform(X)
            transform_s = time.perf_counter() - start
            start = time.perf_counter()
            scores = model.score_samples(X)
            score_s = time.perf_counter() - start
        print(
            f"fit, one epoch: {fit_s:.1f} s ({args.rows / fit_s:,.0f} rows/s); transform: "
            f"{transform_s:.1f} s, codes {codes.shape}; score_samples: {score_s:.1f} s, "
            f"scores {scores.shape}"
        )
        print(
            f"RssAnon before: {baseline / 1e9:.2f} GB; peak during fit, transform and "
            f"score_samples: {memory.peak / 1e9:.2f} GB (target < 1.5 GB)"
        )

        part = X[: args.slice]
        in_memory = np.array(part)
        timed_fit(make, part)  # compile the streamed and the in-memory programs first
        timed_fit(make, in_memory)
        streamed_s = min(timed_fit(make, part) for _ in range(2))
        memory_s = min(timed_fit(make, in_memory) for _ in range(2))
        ratio = memory_s / streamed_s
        print(
            f"{args.slice:,}-row slice, one epoch: streamed {streamed_s:.2f} s, in memory "
            f"{memory_s:.2f} s: streaming keeps {ratio:.0%} of the throughput (target >= 80%)"
        )
        del X, part
    ok = memory.peak < 1.5e9 and ratio >= 0.8
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
