"""Outlier detection on digits: which images does an autoencoder find unusual, and why?
====================================================================================

Trains skae's AutoencoderOutlierDetector on the 0s of scikit-learn's digits with
a few other digits mixed in (5% contamination), as unlabelled data would come,
then scores held-out images where every non-0 is an outlier. Prints the
ROC-AUC beside IsolationForest's and saves a figure drawn with
``skae.plotting``: the histogram of test scores with the threshold, the most
outlying test images, and the per-pixel errors (``reconstruction_error``) of
the most outlying one, which show what made it unusual.

Run: python examples/digits_outliers.py [--quick] [--out digits_outliers.png]
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderOutlierDetector


def contaminated_split(rng):
    """Train on 0s plus 5% other digits; test on held-out images of every digit."""
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
    zeros = X_rest[y_rest == 0]
    others = X_rest[y_rest != 0]
    n_outliers = int(0.05 * len(zeros) / 0.95)
    picked = others[rng.choice(len(others), n_outliers, replace=False)]
    return np.vstack([zeros, picked]), X_test, (y_test != 0).astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller ensemble")
    parser.add_argument("--out", default="digits_outliers.png", help="where to save the figure")
    args = parser.parse_args()

    X_train, X_test, is_outlier = contaminated_split(np.random.RandomState(0))
    detector = AutoencoderOutlierDetector(n_estimators=2 if args.quick else 5, random_state=0).fit(
        X_train
    )
    forest = IsolationForest(random_state=0).fit(X_train)
    outlier_score = -detector.score_samples(X_test)
    print(f"train: {len(X_train)} images (0s and 5% others); test: {len(X_test)} images")
    print(f"ROC-AUC, autoencoder detector: {roc_auc_score(is_outlier, outlier_score):.3f}")
    forest_score = -forest.score_samples(X_test)
    print(f"ROC-AUC, IsolationForest:      {roc_auc_score(is_outlier, forest_score):.3f}")
    print(f"flagged by predict: {np.mean(detector.predict(X_test) == -1):.1%} of the test set")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.plotting import FeatureErrorDisplay, OutlierScoresDisplay

    figure = plt.figure(figsize=(10, 8))
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.4, 1])
    OutlierScoresDisplay.from_estimator(detector, X_test, n_images=8, figure=top)
    worst = X_test[np.argmax(outlier_score)]
    FeatureErrorDisplay.from_estimator(detector, worst, image_shape=(8, 8), ax=bottom.subplots())
    top.suptitle("Test scores of a detector trained on 0s; the most outlying images")
    bottom.suptitle("Where the most outlying image is reconstructed worst")
    figure.savefig(args.out, dpi=100)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
