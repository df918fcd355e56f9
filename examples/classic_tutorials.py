"""The classic autoencoder tutorials, the scikit-learn way.
=========================================================

What "Building Autoencoders in Keras" (Chollet, 2016) and its successors teach,
on scikit-learn's digits, each a few lines of skae:

1. a single-layer, a deep and a convolutional autoencoder: test reconstruction
   error side by side with PCA (on MNIST too, with ``--data-dir`` holding
   ``mnist.npz`` and without ``--quick``: the tutorial's 32-value code);
2. an undercomplete code against an overcomplete one, made sparse by an L1
   penalty (most units silent for each image);
3. a contractive code, less sensitive to its input than a plain one;
4. ``GridSearchCV`` over ``n_components`` in a Pipeline with a classifier;
5. a 2-D map of the digits beside PCA's.

Denoising and VAE generation have their own examples (``image_denoising.py``,
``generation.py``). Saves test images above each model's reconstructions and
the 2-D maps, drawn with ``skae.plotting``.

Run: python examples/classic_tutorials.py [--quick] [--data-dir ../shared/data]
"""

import warnings

import numpy as np
from _image_pairs import load_images, parse_args
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skae import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    SparseAutoencoder,
)


def compare_reconstructions(name, X_train, X_test, n_components, epochs, conv_epochs, **conv):
    """Fit PCA and the three classic autoencoders; print test MSE; return 10 reconstructions."""
    side = int(round(X_train.shape[1] ** 0.5))
    models = {
        "PCA": PCA(n_components=n_components),
        "single layer": Autoencoder(n_components, hidden_layer_sizes=(), max_iter=epochs),
        "deep": Autoencoder(n_components, hidden_layer_sizes=(128, 64), max_iter=epochs),
        "convolutional": ConvolutionalAutoencoder(
            n_components, image_shape=(side, side), max_iter=conv_epochs, **conv
        ),
    }
    print(f"1. {name}: reconstruction from a code of {n_components} values (test MSE)")
    reconstructions = {}
    for label, model in models.items():
        if label != "PCA":
            model.set_params(random_state=0)
        decoded = model.fit(X_train).inverse_transform(model.transform(X_test))
        reconstructions[label] = decoded[:10]
        print(f"   {label:<14} {np.mean((decoded - X_test) ** 2):.4f}")
    return reconstructions


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "classic_tutorials.png")
    warnings.simplefilter("ignore", ConvergenceWarning)
    epochs = 20 if args.quick else 80
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

    mnist = None if args.quick else load_images(args.data_dir, "mnist", 10000, 2000)
    if mnist is None:
        shown = X_test[:10]
        rows = compare_reconstructions(
            "digits", X_train, X_test, 16, epochs, epochs // 3, filters=(16, 32)
        )
    else:
        train, test = (images.reshape(len(images), -1) for images in mnist)
        shown = test[:10]
        rows = compare_reconstructions(
            "MNIST", train, test, 32, 30, 4, filters=(16, 32), batch_size=128
        )

    print("2. undercomplete (16) against overcomplete sparse (128 > 64 pixels) codes")
    sparse = SparseAutoencoder(128, hidden_layer_sizes=(128,), sparsity="l1", max_iter=epochs)
    sparse.set_params(sparsity_weight=0.1, random_state=0).fit(X_train)
    active = np.mean(sparse.transform(X_test) > 1e-3)
    print(f"   sparse code: {active:.0%} of its 128 units active per image on average")

    print("3. contractive against plain codes (mean Frobenius norm of the encoder's Jacobian)")
    contractive = ContractiveAutoencoder(16, hidden_layer_sizes=(128,), max_iter=epochs)
    contractive.set_params(contractive_weight=1.0, random_state=0).fit(X_train)
    reference = ContractiveAutoencoder(16, hidden_layer_sizes=(128,), contractive_weight=0.0)
    reference.set_params(max_iter=epochs, random_state=0).fit(X_train)
    print(
        f"   contractive {np.mean(contractive.jacobian_norm(X_test)):.3f}, "
        f"plain {np.mean(reference.jacobian_norm(X_test)):.3f}"
    )

    print("4. GridSearchCV over n_components, codes fed to a classifier")
    pipeline = make_pipeline(
        Autoencoder(max_iter=epochs // 2, random_state=0), LogisticRegression(max_iter=2000)
    )
    search = GridSearchCV(pipeline, {"autoencoder__n_components": [4, 16]}, cv=2)
    search.fit(X_train, y_train)
    print(
        f"   best n_components={search.best_params_['autoencoder__n_components']}, "
        f"test accuracy {search.score(X_test, y_test):.3f}"
    )

    print("5. a 2-D map")
    map_2d = Autoencoder(2, hidden_layer_sizes=(128, 64), max_iter=epochs, random_state=0)
    map_2d.fit(X_train)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import LatentSpaceDisplay, ReconstructionDisplay

    figure = plt.figure(figsize=(11, 11))
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.3, 1])
    ReconstructionDisplay.from_predictions(shown, rows, figure=top)
    LatentSpaceDisplay.from_estimator(map_2d, X_test, y_test, with_pca=True, figure=bottom)
    top.suptitle("Test images and their reconstructions")
    bottom.suptitle("Digits mapped to two values")
    figure.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
