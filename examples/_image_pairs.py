"""What the paired-image examples share: data loading, PSNR, the baselines and the figure.

Not an example itself (its name starts with ``_``); the examples import it
from their own folder.
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def parse_args(description: str, figure: str) -> argparse.Namespace:
    """``--quick``, ``--data-dir`` and ``--out``, as every example takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small data, few epochs")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of mnist.npz etc."
    )
    parser.add_argument("--out", default=figure, help="where to save the figure")
    return parser.parse_args()


def load_images(data_dir: Path, name: str, n_train: int, n_test: int):
    """``(train, test)`` images of ``name``.npz scaled to [0, 1], or None when absent."""
    path = Path(data_dir) / f"{name}.npz"
    if not path.exists():
        print(f"{path} not found: using scikit-learn's digits instead")
        return None
    with np.load(path) as data:
        return data["x_train"][:n_train] / 255.0, data["x_test"][:n_test] / 255.0


def psnr(predicted, target) -> float:
    """Peak signal-to-noise ratio in dB, for images with values in [0, 1]."""
    error = np.mean(np.square(np.asarray(predicted, float) - np.asarray(target, float)))
    return float(10 * np.log10(1.0 / error))


def ridge_predictions(X_train, Y_train, X_test) -> np.ndarray:
    """``Ridge(alpha=1.0)`` from flat inputs to flat targets: the linear baseline."""

    def flat(images):
        return images.reshape(len(images), -1)

    ridge = Ridge(alpha=1.0).fit(flat(X_train), flat(Y_train))
    return ridge.predict(flat(X_test)).reshape(len(X_test), *Y_train.shape[1:])


def fit_and_report(name, model, X_train, Y_train, X_test, Y_test, identity=None):
    """Fit ``model`` on the pairs; print the test PSNR beside the baselines.

    The baselines are the identity (the input itself, or ``identity`` where the
    input has another shape than the target) and ``Ridge``. A dense model
    gets flat rows. Returns the model's predictions for ``X_test``.
    """
    print(f"--- {name}: {len(X_train)} training pairs {X_train.shape[1:]}, test: {len(X_test)}")
    flat = not hasattr(model, "image_shape")

    def rows(images):
        return images.reshape(len(images), -1) if flat else images

    predicted = model.fit(rows(X_train), Y_train).predict(rows(X_test))
    results = {
        "identity": X_test if identity is None else identity,
        "Ridge": ridge_predictions(X_train, Y_train, X_test),
        "skae": predicted,
    }
    for method, result in results.items():
        print(f"PSNR {method:<9} {psnr(result, Y_test):6.2f} dB")
    return predicted


def save_rows(rows: dict, path: str, title: str, n_images: int = 8) -> None:
    """Save a grid with skae.plotting: one row per entry of ``rows`` (label -> images).

    The first entry is the top row, and sets the intensity scale of all.
    """
    import matplotlib

    matplotlib.use("Agg")
    from skae.plotting import ReconstructionDisplay

    (top_label, top), *others = ((label, np.asarray(x)[:n_images]) for label, x in rows.items())
    below = {label: images.reshape(top.shape) for label, images in others}
    display = ReconstructionDisplay.from_predictions(top, below, images_label=top_label)
    display.figure_.suptitle(title)
    display.figure_.tight_layout()
    display.figure_.savefig(path, dpi=100)
    print(f"saved {path}")
