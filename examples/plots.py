"""Plotting fitted autoencoders with skae.plotting's displays.
============================================================

Fits an Autoencoder with a 2-value code, a VariationalAutoencoder and an
AutoencoderOutlierDetector on scikit-learn's digits and draws every display:
the loss curve with the validation score, test images above their
reconstructions, the 2-D codes coloured by digit beside PCA's, the outlier
scores with the threshold and the most outlying images, one image's per-pixel
errors, and the VAE's samples with an interpolation strip. Prints what each
figure holds and saves them side by side in one PNG.

Run: python examples/plots.py [--quick] [--out plots.png]
"""

import argparse
import io

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

    displays = {
        "loss curve": LossCurveDisplay.from_estimator(model),
        "reconstructions": ReconstructionDisplay.from_estimator(model, X_test, n_images=8),
        "latent space": LatentSpaceDisplay.from_estimator(model, X_test, y_test, with_pca=True),
        "outlier scores": OutlierScoresDisplay.from_estimator(detector, X_test, n_images=6),
        "per-pixel errors": FeatureErrorDisplay.from_estimator(
            detector, X_test[0], image_shape=(8, 8)
        ),
        "VAE samples": SamplesDisplay.from_estimator(
            vae, n_samples=8, x_a=X_test[0], x_b=X_test[1], random_state=0
        ),
    }
    for name, display in displays.items():
        print(f"{name:<17} {len(display.figure_.axes):>2} axes")

    # One PNG holding every display's figure, one above the other.
    images = []
    for display in displays.values():
        buffer = io.BytesIO()
        display.figure_.savefig(buffer, format="png", dpi=80)
        buffer.seek(0)
        images.append(plt.imread(buffer))
    fig, axes = plt.subplots(len(images), 1, figsize=(8, 3.2 * len(images)))
    for ax, image, name in zip(axes, images, displays):
        ax.imshow(image)
        ax.set_axis_off()
        ax.set_title(name)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
