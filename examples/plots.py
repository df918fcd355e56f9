"""Plotting fitted autoencoders with skae.plotting's displays.
============================================================

Fits an Autoencoder with a 2-value code, a VariationalAutoencoder and an
AutoencoderOutlierDetector on scikit-learn's digits and draws every display:
the loss curve with the validation score, test images above their
reconstructions, the 2-D codes coloured by digit beside PCA's, the outlier
scores with the threshold and the most outlying images, one image's per-pixel
errors, and the VAE's samples with an interpolation strip. Each display draws
into its own part of one figure (``Figure.subfigures``; the single-panel
displays take an ``ax``), which is saved as one PNG; prints what each holds.

Run: python examples/plots.py [--quick] [--out plots.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skae import Autoencoder, AutoencoderOutlierDetector, VariationalAutoencoder  # noqa: E402
from skae.plotting import (  # noqa: E402
    FeatureErrorDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    OutlierScoresDisplay,
    ReconstructionDisplay,
    SamplesDisplay,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default="plots.png", help="where to save the figures")
    args = parser.parse_args()
    epochs = 20 if args.quick else 100
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

    model = Autoencoder(n_components=2, early_stopping=True, max_iter=epochs, random_state=0)
    model.fit(X_train)
    vae = VariationalAutoencoder(n_components=4, max_iter=epochs, random_state=0).fit(X_train)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X_train)

    figure = plt.figure(figsize=(10, 24))
    parts = figure.subfigures(6, 1, height_ratios=[3, 3, 4, 4.5, 3.5, 3])
    displays = {
        "loss curve": LossCurveDisplay.from_estimator(model, ax=parts[0].subplots()),
        "reconstructions": ReconstructionDisplay.from_estimator(
            model, X_test, n_images=8, figure=parts[1]
        ),
        "latent space": LatentSpaceDisplay.from_estimator(
            model, X_test, y_test, with_pca=True, figure=parts[2]
        ),
        "outlier scores": OutlierScoresDisplay.from_estimator(
            detector, X_test, n_images=6, figure=parts[3]
        ),
        "per-pixel errors": FeatureErrorDisplay.from_estimator(
            detector, X_test[0], image_shape=(8, 8), ax=parts[4].subplots()
        ),
        "VAE samples": SamplesDisplay.from_estimator(
            vae, n_samples=8, x_a=X_test[0], x_b=X_test[1], random_state=0, figure=parts[5]
        ),
    }
    for part, (name, display) in zip(parts, displays.items()):
        part.suptitle(name)
        print(f"{name:<17} {len(display.figure_.axes):>2} axes")
    figure.savefig(args.out, dpi=80)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
