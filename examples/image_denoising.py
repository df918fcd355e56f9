"""Denoising images: learn noisy -> clean from pairs, and beat a linear filter.
============================================================================

Adds Gaussian noise (standard deviation 0.3, clipped to [0, 1]) to MNIST
digits and trains a ConvolutionalAutoencoderRegressor to map each noisy image
back to its clean original. Prints the held-out PSNR beside the noisy input
itself and Ridge(alpha=1.0), the best linear map from noisy to clean pixels,
and saves a figure of noisy, denoised and clean test images. Without
``mnist.npz`` (or with ``--quick``) it uses scikit-learn's 8x8 digits, five
noisy copies of each, and a dense AutoencoderRegressor.

Run: python examples/image_denoising.py [--quick] [--data-dir ../shared/data]
"""

import numpy as np
from _image_pairs import fit_and_report, load_images, parse_args, save_rows
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderRegressor, ConvolutionalAutoencoderRegressor
from skae.datasets import add_gaussian_noise


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "image_denoising.png")
    mnist = None if args.quick else load_images(args.data_dir, "mnist", 8000, 2000)
    if mnist is None:
        clean_train, clean_test = train_test_split(
            load_digits().images / 16, test_size=0.3, random_state=0
        )
        clean_train = np.concatenate([clean_train] * 5)  # noise is free: five draws each
        model = AutoencoderRegressor(n_components=32, hidden_layer_sizes=(256,), max_iter=100)
        name = "digits"
    else:
        clean_train, clean_test = mnist
        model = ConvolutionalAutoencoderRegressor(filters=(16,), batch_size=64, max_iter=8)
        name = "MNIST"
    noisy_train = add_gaussian_noise(clean_train, 0.3, random_state=0)
    noisy_test = add_gaussian_noise(clean_test, 0.3, random_state=1)
    model.set_params(random_state=0)
    denoised = fit_and_report(name, model, noisy_train, clean_train, noisy_test, clean_test)
    denoised = denoised.reshape(clean_test.shape)
    rows = {"noisy": noisy_test, "denoised": denoised, "clean": clean_test}
    save_rows(rows, args.out, "Denoising: noisy -> clean")


if __name__ == "__main__":
    main()
