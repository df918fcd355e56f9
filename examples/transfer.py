"""Transfer: start a new model from another one's trained layers.
==============================================================

Two uses of ``init_weights``, on scikit-learn's digits:

1. adapt: an autoencoder trained on the digits 0-4 starts a model for the
   digits 5-9, which reaches the held-out error of a model trained from
   scratch for 10 epochs in fewer epochs;
2. reuse an encoder: a regressor learns to predict each image's row
   brightness from the frozen encoder of an autoencoder fitted on unlabelled
   images, training only its decoder.

The fitted source goes in ``sklearn.frozen.FrozenEstimator``, so that clones
(every GridSearchCV fold) start from it too. Saves the held-out error curves.
With ``--data-dir`` holding MNIST and Fashion-MNIST (and without
``--quick``), also adapts an MNIST autoencoder to Fashion-MNIST.

Run: python examples/transfer.py [--quick] [--data-dir ../shared/data]
"""

import numpy as np
from _image_pairs import load_images, parse_args
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split

from skae import Autoencoder, AutoencoderRegressor

ARCHITECTURE = {"hidden_layer_sizes": (64,), "n_components": 8, "tol": 0.0}


def error_curve(model, X_train, X_test, n_epochs):
    """Held-out reconstruction error after each epoch (one partial_fit each)."""
    errors = []
    for _ in range(n_epochs):
        errors.append(-model.partial_fit(X_train).score(X_test))
    return errors


def adapt(name, source_data, X_train, X_test, n_epochs=10):
    """Curves from scratch and from a model fitted on ``source_data``; prints the epochs saved."""
    source = Autoencoder(max_iter=30, random_state=0, **ARCHITECTURE).fit(source_data)
    curves = {
        "from scratch": error_curve(
            Autoencoder(random_state=1, **ARCHITECTURE), X_train, X_test, n_epochs
        ),
        "from trained layers": error_curve(
            Autoencoder(init_weights=FrozenEstimator(source), random_state=1, **ARCHITECTURE),
            X_train,
            X_test,
            n_epochs,
        ),
    }
    goal = curves["from scratch"][-1]
    reached = next(i + 1 for i, e in enumerate(curves["from trained layers"] + [0]) if e <= goal)
    print(
        f"{name}: scratch after {n_epochs} epochs: error {goal:.4f}; started from trained "
        f"layers: {curves['from trained layers'][0]:.4f} after 1 epoch, reaches {goal:.4f} "
        f"after {reached if reached <= n_epochs else f'more than {n_epochs}'} epochs"
    )
    return curves


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "transfer.png")
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_train, X_test = train_test_split(X[y >= 5], test_size=0.3, random_state=0)
    all_curves = {"digits 0-4 -> 5-9": adapt("digits 0-4 -> 5-9", X[y < 5], X_train, X_test)}

    # A frozen encoder from unlabelled images, a regressor trained on top.
    encoder_source = Autoencoder(max_iter=30, random_state=0, **ARCHITECTURE).fit(X)
    brightness = X_train.reshape(-1, 8, 8).mean(axis=2)  # one value per image row
    regressor = AutoencoderRegressor(
        init_weights=FrozenEstimator(encoder_source),
        init_layers="encoder",
        freeze=True,
        max_iter=60,
        random_state=0,
        **ARCHITECTURE,
    )
    search = GridSearchCV(regressor, {"learning_rate_init": [3e-3, 1e-2]}, cv=3)
    search.fit(X_train, brightness)
    best = search.best_estimator_
    same = np.array_equal(best.transform(X_test), encoder_source.transform(X_test))
    test_brightness = X_test.reshape(-1, 8, 8).mean(axis=2)
    print(
        f"regressor on the frozen encoder: R^2 {best.score(X_test, test_brightness):.3f} "
        f"on held-out images (learning_rate_init={search.best_params_['learning_rate_init']}); "
        f"encoder unchanged: {same}"
    )

    images = None if args.quick else load_images(args.data_dir, "mnist", 20000, 1)
    fashion = None if images is None else load_images(args.data_dir, "fashion_mnist", 10000, 2000)
    if fashion is not None:
        flat = [part.reshape(len(part), -1) for part in (images[0], *fashion)]
        all_curves["MNIST -> Fashion-MNIST"] = adapt("MNIST -> Fashion-MNIST", *flat)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import LossCurveDisplay

    fig, axes = plt.subplots(1, len(all_curves), figsize=(5 * len(all_curves), 3.5), squeeze=False)
    for ax, (title, curves) in zip(axes[0], all_curves.items()):
        for label, curve in curves.items():
            LossCurveDisplay(curve).plot(ax=ax, label=label)
        ax.set(title=title, ylabel="held-out reconstruction error")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
