"""Removing watermarks: learn watermarked -> clean from pairs.
===========================================================

Stamps a semi-transparent white mark at a random place on each image (a cross
on scikit-learn's 8x8 digits, the text "skae" on Fashion-MNIST) and trains an
encoder-decoder to give the clean image back. Each training image is stamped
several times, in new places, as pairs for this task are made. Prints the
held-out PSNR beside the watermarked input and Ridge(alpha=1.0), and saves a
figure of watermarked, cleaned and clean test images. Fashion-MNIST is read
from ``--data-dir`` (skipped with ``--quick`` or when absent).

Run: python examples/watermark_removal.py [--quick] [--data-dir ../shared/data]
"""

import numpy as np
from _image_pairs import fit_and_report, load_images, parse_args, save_rows
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderRegressor, ConvolutionalAutoencoderRegressor
from skae.datasets import add_watermark


def stamped_pairs(clean_train, clean_test, copies: int):
    """Training pairs with ``copies`` stamps per image, and stamped test images."""
    Y_train = np.concatenate([clean_train] * copies)
    return (
        add_watermark(Y_train, random_state=0),
        Y_train,
        add_watermark(clean_test, random_state=1),
    )


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "watermark_removal.png")
    clean_train, clean_test = train_test_split(
        load_digits().images / 16, test_size=0.3, random_state=0
    )
    X_train, Y_train, X_test = stamped_pairs(clean_train, clean_test, copies=5)
    # Squared error: the loss PSNR measures.
    model = AutoencoderRegressor(
        n_components=64, hidden_layer_sizes=(256,), loss="mse", max_iter=300, random_state=0
    )
    cleaned = fit_and_report("digits", model, X_train, Y_train, X_test, clean_test)
    shown = {"watermarked": X_test, "cleaned": cleaned, "clean": clean_test}

    fashion = None if args.quick else load_images(args.data_dir, "fashion_mnist", 8000, 2000)
    if fashion is not None:
        X_train, Y_train, X_test = stamped_pairs(*fashion, copies=1)
        model = ConvolutionalAutoencoderRegressor(
            filters=(32,), batch_size=32, learning_rate_init=2e-3, max_iter=12, random_state=0
        )
        cleaned = fit_and_report("Fashion-MNIST", model, X_train, Y_train, X_test, fashion[1])
        shown = {"watermarked": X_test, "cleaned": cleaned, "clean": fashion[1]}
    save_rows(shown, args.out, "Watermark removal: watermarked -> clean")


if __name__ == "__main__":
    main()
