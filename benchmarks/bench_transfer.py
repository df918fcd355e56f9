"""Transfer: an autoencoder trained on MNIST, adapted to Fashion-MNIST.

Trains ``Autoencoder(hidden_layer_sizes=(256, 128), n_components=32)`` (the
classic 784-256-128-32 model of bench_dense) on MNIST,
then on Fashion-MNIST three ways, one epoch per ``partial_fit``, recording the
held-out Fashion-MNIST reconstruction error (``-score``) after each epoch:

- from scratch;
- started from all the MNIST model's layers (``init_weights``);
- started from its encoder, frozen, only the decoder training
  (``init_layers="encoder", freeze=True``).

Target (issue 9): the model started from all trained layers reaches the test
error the scratch model has after 10 epochs in at most 5 epochs. The frozen
run is reported, not held to it (a frozen MNIST encoder limits what the
decoder can reconstruct). Exits 1 when the target is missed.

Usage: python benchmarks/bench_transfer.py --data-dir ../shared/data
"""

import argparse
import sys
import time
from pathlib import Path

from _common import load_images, print_table
from sklearn.frozen import FrozenEstimator

from skae import Autoencoder

ARCHITECTURE = {"hidden_layer_sizes": (256, 128), "n_components": 32}
EPOCHS = 10


def test_errors(model, X_train, X_test, n_epochs: int) -> list[float]:
    """Held-out reconstruction error after each of ``n_epochs`` partial_fit epochs."""
    errors = []
    for _ in range(n_epochs):
        model.partial_fit(X_train)
        errors.append(-model.score(X_test))
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    mnist_train, _ = load_images(str(args.data_dir / "mnist.npz"))
    fashion_train, fashion_test = load_images(str(args.data_dir / "fashion_mnist.npz"))
    fashion_train, fashion_test = fashion_train[:20000], fashion_test[:5000]

    start = time.perf_counter()
    source = Autoencoder(max_iter=EPOCHS, random_state=0, **ARCHITECTURE).fit(mnist_train)
    print(f"MNIST model: {source.n_iter_} epochs in {time.perf_counter() - start:.1f} s")

    runs = {
        "scratch": {},
        "all layers": {"init_weights": FrozenEstimator(source)},
        "frozen encoder": {
            "init_weights": FrozenEstimator(source),
            "init_layers": "encoder",
            "freeze": True,
        },
    }
    curves = {
        name: test_errors(
            Autoencoder(random_state=1, **ARCHITECTURE, **options),
            fashion_train,
            fashion_test,
            EPOCHS,
        )
        for name, options in runs.items()
    }
    goal = curves["scratch"][-1]
    rows = []
    for name, curve in curves.items():
        reached = next((epoch + 1 for epoch, error in enumerate(curve) if error <= goal), None)
        rows.append(
            {
                "start": name,
                "error after 1": curve[0],
                "after 5": curve[4],
                "after 10": curve[-1],
                "epochs to scratch@10": reached if reached is not None else f">{EPOCHS}",
            }
        )
    print_table(rows)
    reached = rows[1]["epochs to scratch@10"]
    passed = isinstance(reached, int) and reached <= 5
    print(
        f"all layers reach scratch's epoch-10 error in {reached} epochs (target <= 5):",
        "PASS" if passed else "FAIL",
    )
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
