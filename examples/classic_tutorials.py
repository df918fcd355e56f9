"""The classic autoencoder tutorials, the scikit-learn way.
=========================================================

What "Building Autoencoders in Keras" (Chollet, 2016) and its successors teach,
on scikit-learn's digits, each a few lines of skae:

1. a single-layer, a deep and a convolutional autoencoder: test reconstruction
   error side by side with PCA;
2. an undercomplete code against an overcomplete one, made sparse by an L1
   penalty (most units silent for each image);
3. a contractive code, less sensitive to its input than a plain one;
4. ``GridSearchCV`` over ``n_components`` in a Pipeline with a classifier;
5. a 2-D map of the digits beside PCA's.

Denoising and VAE generation have their own examples (``image_denoising.py``,
``generation.py``). Saves test digits above each model's reconstructions and
the 2-D maps.

Run: python examples/classic_tutorials.py [--quick] [--out classic_tutorials.png]
"""

import argparse
import warnings

import numpy as np
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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default="classic_tutorials.png", help="where to save the figure")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    epochs = 20 if args.quick else 80
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

    print("1. reconstruction from a code of 16 values (test MSE)")
    models = {
        "PCA": PCA(n_components=16),
        "single layer": Autoencoder(16, hidden_layer_sizes=(), max_iter=epochs, random_state=0),
        "deep": Autoencoder(16, hidden_layer_sizes=(128, 64), max_iter=epochs, random_state=0),
        "convolutional": ConvolutionalAutoencoder(
            16, image_shape=(8, 8), filters=(16, 32), max_iter=epochs // 3, random_state=0
        ),
    }
    reconstructions = {"original": X_test[:10]}
    for name, model in models.items():
        model.fit(X_train)
        decoded = model.inverse_transform(model.transform(X_test))
        reconstructions[name] = decoded[:10]
        print(f"   {name:<14} {np.mean((decoded - X_test) ** 2):.4f}")

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
    codes = map_2d.fit(X_train).transform(X_test)
    pca_codes = PCA(n_components=2).fit(X_train).transform(X_test)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(11, 7))
    grid = fig.add_gridspec(len(reconstructions) + 3, 10)
    for row, (name, images) in enumerate(reconstructions.items()):
        for column, image in enumerate(images):
            ax = fig.add_subplot(grid[row, column])
            ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if column == 0:
                ax.set_ylabel(name, fontsize=7)
    for half, (title, values) in enumerate([("autoencoder 2-D code", codes), ("PCA", pca_codes)]):
        ax = fig.add_subplot(grid[len(reconstructions) :, 5 * half : 5 * half + 5])
        ax.scatter(values[:, 0], values[:, 1], c=y_test, cmap="tab10", s=6)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
