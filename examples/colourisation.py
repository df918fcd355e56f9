"""Colourising grey images: learn grey -> colour from pairs of photo patches.
==========================================================================

Cuts the two photos that ship with scikit-learn (``load_sample_images``) into
16x16 patches, turns each into grey (its luma), and trains a
ConvolutionalAutoencoderRegressor to give the colour back: one channel in,
three out. Prints the held-out PSNR beside the grey value copied to the three
channels and Ridge(alpha=1.0) from grey to colour pixels, and saves a figure
of grey, colourised and true patches.

Run: python examples/colourisation.py [--quick]
"""

import numpy as np
from _image_pairs import fit_and_report, parse_args, save_rows
from sklearn.model_selection import train_test_split

from skae import ConvolutionalAutoencoderRegressor
from skae.datasets import load_colour_patches, to_grey


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "colourisation.png")
    train, test = train_test_split(load_colour_patches(size=16), test_size=0.3, random_state=0)
    grey_train, grey_test = to_grey(train), to_grey(test)
    model = ConvolutionalAutoencoderRegressor(
        filters=(32,), batch_size=32, max_iter=10 if args.quick else 30, random_state=0
    )
    # The identity baseline: the grey value copied to the three channels.
    grey_copied = np.repeat(grey_test, 3, axis=-1)
    colourised = fit_and_report("patches", model, grey_train, train, grey_test, test, grey_copied)
    rows = {"grey": grey_copied, "colourised": colourised, "true": test}
    save_rows(rows, args.out, "ConvolutionalAutoencoderRegressor: grey -> colour")


if __name__ == "__main__":
    main()
