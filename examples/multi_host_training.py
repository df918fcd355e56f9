"""Training on several hosts with ``jax.distributed``.
=====================================================

One model trained on the devices of several processes (hosts), each process
reading only its own shard of a memory-mapped data set. After
``jax.distributed.initialize``, JAX sees the devices of every process, and an
estimator with ``devices="auto"`` trains on all of them: each process calls
``fit`` with its own rows, the processes agree on the number of rows, the range
of each feature and the seed, and every minibatch gathers its rows from the
processes that hold them. Every process ends with the same weights, those of
one process fitting all the rows (up to the order of floating-point sums).

Launching. Start this script once per host with the same coordinator (process
0's address and a free port) and each host's process number::

    JAX_COORDINATOR_ADDRESS=host0:12345 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=0 \\
        python multi_host_training.py --worker --data rows.npy --out-dir results
    JAX_COORDINATOR_ADDRESS=host0:12345 JAX_NUM_PROCESSES=2 JAX_PROCESS_ID=1 \\
        python multi_host_training.py --worker --data rows.npy --out-dir results

On clusters JAX recognises (SLURM, Open MPI, Kubernetes, Cloud TPU),
``jax.distributed.initialize()`` finds these values itself. Hosts without
accelerators exchange gradients through gloo: set
``JAX_CPU_COLLECTIVES_IMPLEMENTATION=gloo`` (as below).

Run without ``--worker``, the script is its own launcher on this machine: it
writes the digits to a ``.npy`` file, starts two worker processes over
localhost, then checks that both ended with the same weights as one process
fitting every row, and saves their loss curves.

Run: python examples/multi_host_training.py [--quick]
"""

import argparse
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from subprocess import PIPE

import jax
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import Autoencoder

# This file, which the launcher starts as the workers (sphinx-gallery runs
# examples without __file__, with the file's path as sys.argv[0]).
SCRIPT = str(Path(globals().get("__file__", sys.argv[0])).resolve())


def make_model(quick: bool) -> Autoencoder:
    return Autoencoder(n_components=8, max_iter=5 if quick else 40, tol=0.0, random_state=0)


def worker(data: Path, out_dir: Path, quick: bool) -> None:
    """One process: join the others, fit on this process's rows, pickle the model."""
    jax.distributed.initialize(  # the coordinator's address comes from JAX_COORDINATOR_ADDRESS
        num_processes=int(os.environ["JAX_NUM_PROCESSES"]),
        process_id=int(os.environ["JAX_PROCESS_ID"]),
    )
    warnings.simplefilter("ignore", ConvergenceWarning)  # --quick trains a few epochs
    X = np.load(data, mmap_mode="r")  # nothing read yet
    rows = np.array_split(np.arange(len(X)), jax.process_count())[jax.process_index()]
    shard = X[rows[0] : rows[-1] + 1]  # this process's rows only
    model = make_model(quick).set_params(devices="auto").fit(shard)
    print(
        f"process {jax.process_index()}: rows {rows[0]}-{rows[-1]}, trained on "
        f"{len(jax.devices())} devices, final loss {model.loss_:.5f}"
    )
    with open(out_dir / f"process_{jax.process_index()}.pkl", "wb") as file:
        pickle.dump(model, file)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def launch(n_processes: int, data: Path, out_dir: Path, quick: bool) -> None:
    """Start ``n_processes`` workers of this script on this machine and wait for them."""
    port = free_port()
    workers = []
    for process_id in range(n_processes):
        env = {
            **os.environ,
            "JAX_COORDINATOR_ADDRESS": f"localhost:{port}",
            "JAX_NUM_PROCESSES": str(n_processes),
            "JAX_PROCESS_ID": str(process_id),
            "JAX_PLATFORMS": "cpu",  # the processes share this machine's CPU
            "JAX_CPU_COLLECTIVES_IMPLEMENTATION": "gloo",
        }
        command = [sys.executable, SCRIPT, "--worker", "--data", str(data)]
        command += ["--out-dir", str(out_dir), *(["--quick"] if quick else [])]
        workers.append(subprocess.Popen(command, env=env, stdout=PIPE, stderr=PIPE, text=True))
    for process_id, process in enumerate(workers):
        output, errors = process.communicate(timeout=600)
        print(output.strip())
        if process.returncode:
            sys.exit(f"worker process {process_id} failed:\n{errors[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--out", default="multi_host_training.png", help="the figure")
    parser.add_argument("--worker", action="store_true", help="run as one of the processes")
    parser.add_argument("--data", type=Path, help="(worker) the .npy file of rows")
    parser.add_argument("--out-dir", type=Path, help="(worker) where to save the model")
    args = parser.parse_args()
    if args.worker:
        worker(args.data, args.out_dir, args.quick)
        return

    X = load_digits().data / 16
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "digits.npy"
        np.save(data, X.astype(np.float32))
        launch(2, data, Path(folder), args.quick)
        models = []
        for process_id in range(2):
            with open(Path(folder) / f"process_{process_id}.pkl", "rb") as file:
                models.append(pickle.load(file))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_process = make_model(args.quick).fit(X)

    def largest_difference(a, b):
        pairs = zip(jax.tree.leaves(a.params_), jax.tree.leaves(b.params_))
        return max(float(np.max(np.abs(x - y))) for x, y in pairs)

    print(f"largest weight difference, process 0 vs 1: {largest_difference(*models):.2g}")
    print(
        "largest weight difference, processes vs one process on every row: "
        f"{largest_difference(models[0], one_process):.2g}"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import LossCurveDisplay

    fig, ax = plt.subplots(figsize=(5, 3.5))
    LossCurveDisplay(one_process.loss_curve_).plot(ax=ax, label="one process, all rows")
    for process_id, model in enumerate(models):
        display = LossCurveDisplay(model.loss_curve_).plot(ax=ax, label=f"process {process_id}")
        display.lines_[0].set(linestyle=":", marker="x" if process_id else "+")
    ax.legend()
    ax.set(title="Two processes, one model")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
