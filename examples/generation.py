"""Generating images with variational autoencoders, and morphing one into another.
===============================================================================

Fits a VariationalAutoencoder (dense) and a ConvolutionalVariationalAutoencoder
on MNIST digits and on Fashion-MNIST items, then for each saves a grid of new
images decoded from codes drawn from the prior (``sample``) and a strip that
morphs one test image into another (``interpolate``, spherical for a VAE).
Prints each model's held-out ELBO per image. With ``--quick``, or without the
data files, it uses scikit-learn's 8x8 digits.

Run: python examples/generation.py [--quick] [--data-dir ../shared/data]
"""

import numpy as np
from _image_pairs import load_images, parse_args
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import ConvolutionalVariationalAutoencoder, VariationalAutoencoder


def data_sets(args):
    """``{name: (train, test)}`` image sets, values in [0, 1]."""
    sets = {}
    if not args.quick:
        for name in ("mnist", "fashion_mnist"):
            images = load_images(args.data_dir, name, 4000, 500)
            if images is not None:
                sets[name] = images
    if not sets:
        sets["digits"] = train_test_split(load_digits().images / 16, random_state=0)
    return sets


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "generation.png")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import SamplesDisplay

    sets = data_sets(args)
    epochs = 15 if args.quick else 8
    models = {
        "dense VAE": lambda: VariationalAutoencoder(
            n_components=8, hidden_layer_sizes=(256,), max_iter=3 * epochs, random_state=0
        ),
        "conv VAE": lambda: ConvolutionalVariationalAutoencoder(
            n_components=8, filters=(16, 32), max_iter=epochs, random_state=0
        ),
    }
    figure = plt.figure(figsize=(8, 2.6 * len(sets) * len(models)))
    parts = iter(figure.subfigures(len(sets) * len(models), 1).ravel())
    for data_name, (train, test) in sets.items():
        for model_name, make in models.items():
            flat = model_name.startswith("dense")
            model = make().fit(train.reshape(len(train), -1) if flat else train)
            test_input = test.reshape(len(test), -1) if flat else test
            # The median: a few test images with ink where the training images
            # never had any get very low ELBOs, which dominate the mean.
            elbo = np.median(model.score_samples(test_input))
            print(f"{data_name:<14} {model_name:<9} median held-out ELBO {elbo:8.2f} nats")
            part = next(parts)
            SamplesDisplay.from_estimator(
                model,
                x_a=test_input[0],
                x_b=test_input[1],
                image_shape=train.shape[1:],
                random_state=0,
                figure=part,
            )
            part.suptitle(f"{data_name}, {model_name}: samples from the prior, a spherical path")
    figure.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
