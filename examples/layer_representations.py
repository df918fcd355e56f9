"""What each layer has learnt: read every layer's output, and feed one to a classifier.
====================================================================================

Fits an Autoencoder (64-128-32-8 and back) on scikit-learn's digits without
their labels, then, for every layer from the input to the reconstruction,
reads its output with ``layer_activations`` and measures how well a logistic
regression predicts the digit from it (held-out accuracy), beside the raw
pixels. Saves a figure of the accuracies and of the first hidden layer's
units as 8x8 weight images, and prints the column names a DataFrame of one
layer would get.

Run: python examples/layer_representations.py [--quick]
"""

from _image_pairs import parse_args
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skae import Autoencoder


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "layer_representations.png")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    model = Autoencoder(
        hidden_layer_sizes=(128, 32),
        n_components=8,
        max_iter=20 if args.quick else 100,
        random_state=0,
    ).fit(X_train)

    def accuracy(train, test):
        classifier = LogisticRegression(max_iter=3000).fit(train, y_train)
        return classifier.score(test, y_test)

    accuracies = {"pixels": accuracy(X_train, X_test)}
    for name in model.get_layer_names():
        train, test = model.layer_activations(X_train, name), model.layer_activations(X_test, name)
        accuracies[name] = accuracy(train, test)
    for name, score in accuracies.items():
        width = 64 if name == "pixels" else model.layer_activations(X_test[:1], name).shape[1]
        print(f"{name:<10} {width:>4} units  held-out accuracy {score:.3f}")
    print("columns of the code:", list(model.get_layer_feature_names_out("code")))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 3.5))
    ax = fig.add_subplot(1, 2, 1)
    ax.bar(range(len(accuracies)), list(accuracies.values()))
    ax.set_xticks(range(len(accuracies)), list(accuracies), rotation=45, ha="right")
    ax.set(ylabel="held-out accuracy", title="Logistic regression on each layer", ylim=(0, 1))
    kernel = model.params_["encoder"]["layers"][0]["kernel"]  # (64 pixels, 128 units)
    for unit in range(16):
        unit_ax = fig.add_subplot(4, 8, 8 * (unit // 4) + 5 + unit % 4)
        unit_ax.imshow(kernel[:, unit].reshape(8, 8), cmap="RdBu")
        unit_ax.set_xticks([])
        unit_ax.set_yticks([])
    fig.suptitle("Layers of an autoencoder fitted without labels; right: units of encoder.0")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
