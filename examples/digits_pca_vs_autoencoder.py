"""PCA against skae's Autoencoder on scikit-learn's bundled digits.
================================================================

For each code size, both reduce the 64 pixels of the 8x8 digits, then we report:
- the test reconstruction error (mean squared error on pixels scaled to [0, 1]),
- the fit time,
- the test accuracy of a logistic regression trained on the codes;

and saves a figure of test images above their PCA and autoencoder
reconstructions at the largest code size.

Run: python examples/digits_pca_vs_autoencoder.py   (--quick: one code size, 10 epochs)
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import Autoencoder


def evaluate(reducer, X_train, X_test, y_train, y_test) -> dict:
    start = time.perf_counter()
    reducer.fit(X_train)
    fit_seconds = time.perf_counter() - start
    reconstruction = reducer.inverse_transform(reducer.transform(X_test))
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(reducer.transform(X_train), y_train)
    return {
        "test MSE": float(np.mean((reconstruction - X_test) ** 2)),
        "fit s": fit_seconds,
        "accuracy": classifier.score(reducer.transform(X_test), y_test),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one code size, 10 epochs")
    parser.add_argument("--out", default="digits_pca_vs_autoencoder.png", help="the figure")
    args = parser.parse_args()
    quick = args.quick
    # With the default max_iter=200 the loss on digits still creeps down at the
    # end; the models are good, so keep the table readable.
    warnings.simplefilter("ignore", ConvergenceWarning)
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0
    )
    print(f"digits: {len(X_train)} train / {len(X_test)} test images of 8x8 pixels\n")
    header = f"{'code':>4}  {'model':<12} {'test MSE':>9} {'fit s':>7} {'accuracy':>9}"
    print(header)
    print("-" * len(header))
    max_iter = 10 if quick else 200
    reconstructions = {"original": X_test[:10]}
    for n_components in (8,) if quick else (2, 8, 16):
        for name, reducer in (
            ("PCA", PCA(n_components=n_components)),
            ("Autoencoder", Autoencoder(n_components, max_iter=max_iter, random_state=0)),
        ):
            result = evaluate(reducer, X_train, X_test, y_train, y_test)
            reconstructions[name] = reducer.inverse_transform(reducer.transform(X_test[:10]))
            print(
                f"{n_components:>4}  {name:<12} {result['test MSE']:>9.4f} "
                f"{result['fit s']:>7.2f} {result['accuracy']:>9.3f}"
            )
    print(
        "\nThe Autoencoder's fit time includes JAX compilation (about a second per "
        "new architecture);\nrefits and clones of the same architecture reuse it."
    )
    import matplotlib

    matplotlib.use("Agg")
    from skae.plotting import ReconstructionDisplay

    original = reconstructions.pop("original")
    display = ReconstructionDisplay.from_predictions(original, reconstructions)
    display.figure_.suptitle(f"Test digits and their reconstructions from {n_components} values")
    display.figure_.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
