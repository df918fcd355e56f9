"""How the time per epoch grows with the number of rows and of devices.

Rows: ``Autoencoder(n_components=32, hidden_layer_sizes=(256, 128),
batch_size=256)`` on 10,000, 100,000 and 1,000,000 rows of 784 features
(MNIST's training images repeated, or uniform noise without ``--data``), in
memory. The time per epoch is measured as a user sees it, from two warm fits
(programs compiled first): ``(time of fit(max_iter=3) - time of
fit(max_iter=1)) / 2``, which leaves out the per-fit setup. Target: linear,
the time per row of every size within 20 % of the others'.

Devices: the same model on ``--device-rows`` rows with ``devices="auto"`` in
fresh processes that see 1, 2 and 4 devices (on a CPU, XLA's forced host
devices: they share the same cores, so this shows the sharding's overhead,
not a speed-up; on a machine with several accelerators, its own devices).
Reported, no target.

Exits 1 when the linearity target is missed.

Usage: python benchmarks/bench_scaling.py [--data ../shared/data/mnist.npz] [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import print_table

MODEL = {"n_components": 32, "hidden_layer_sizes": (256, 128), "batch_size": 256, "tol": 0.0}


def rows_of(n_rows: int, data: str) -> np.ndarray:
    """``n_rows`` x 784 float32 rows in [0, 1]: MNIST's training images repeated, or noise."""
    if Path(data).exists():
        with np.load(data) as arrays:
            source = arrays["x_train"].reshape(-1, 784)
        return (source[np.arange(n_rows) % len(source)] / np.float32(255)).astype(np.float32)
    return np.random.default_rng(0).random((n_rows, 784), dtype=np.float32)


def seconds_per_epoch(X, **options) -> float:
    """Steady-state seconds per epoch of warm fits on ``X`` (setup left out)."""
    from skae import Autoencoder

    def fit_seconds(max_iter):
        model = Autoencoder(max_iter=max_iter, random_state=0, **MODEL, **options)
        start = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - start

    fit_seconds(1)  # compile
    return (fit_seconds(3) - fit_seconds(1)) / 2


def device_worker(n_rows: int, data: str) -> None:
    """In a fresh process: print this process's device count and time per epoch as JSON."""
    import jax

    X = rows_of(n_rows, data)
    print(
        json.dumps({"devices": len(jax.devices()), "seconds": seconds_per_epoch(X, devices="auto")})
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/mnist.npz")
    parser.add_argument("--quick", action="store_true", help="1,000 to 100,000 rows")
    parser.add_argument("--device-rows", type=int, default=100_000)
    parser.add_argument("--device-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.device_worker:
        device_worker(args.device_rows, args.data)
        return 0
    import jax

    print(f"jax {jax.__version__}, backend: {jax.default_backend()}, {jax.devices()}")
    sizes = [1_000, 10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    table = []
    for n_rows in sizes:
        X = rows_of(n_rows, args.data)
        seconds = seconds_per_epoch(X)
        table.append({"rows": n_rows, "s/epoch": seconds, "us/row": seconds / n_rows * 1e6})
        del X
    per_row = [row["us/row"] for row in table]
    spread = max(per_row) / min(per_row)
    for row in table:
        row["vs fastest/row"] = row["us/row"] / min(per_row)
    print_table(table)
    print(f"time per row: largest / smallest = {spread:.2f} (target <= 1.20)")

    device_rows = min(args.device_rows, sizes[-1])
    table = []
    on_cpu = jax.default_backend() == "cpu"
    for n_devices in [1, 2, 4] if on_cpu else sorted({1, len(jax.devices())}):
        env = dict(os.environ)
        if on_cpu:
            env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"
        else:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, range(n_devices)))
        command = [sys.executable, __file__, "--device-worker", "--data", args.data]
        command += ["--device-rows", str(device_rows)]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        table.append(
            {"devices": measured["devices"], "rows": device_rows, "s/epoch": measured["seconds"]}
        )
    for row in table:
        row["vs 1 device"] = row["s/epoch"] / table[0]["s/epoch"]
    print_table(table)
    if on_cpu:
        print("(forced host devices share the same CPU cores: the ratio is the sharding's cost)")
    ok = spread <= 1.2
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
