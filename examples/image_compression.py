"""Compressing images with an autoencoder, against PCA at the same code size.
==========================================================================

Fits an Autoencoder on Fashion-MNIST for codes of 8, 16, 32 and 64 values and
reports, for each, the compression ratio (a 28x28 uint8 image over its code
stored as float16) and the quality of the decoded held-out images (PSNR, and
SSIM when scikit-image is installed), beside PCA with as many components.
In full mode it exits with status 1 unless the autoencoder's PSNR beats
PCA's at every size. With ``--quick``, or without the data, it uses
scikit-learn's 8x8 digits and smaller codes.

Run: python examples/image_compression.py [--quick] [--data-dir ../shared/data]
"""

import sys

from _image_pairs import load_images, parse_args, save_rows
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import Autoencoder
from skae.metrics import compression_report


def main() -> None:
    args = parse_args((__doc__ or "").partition("\n")[0], "compression.png")
    fashion = None if args.quick else load_images(args.data_dir, "fashion_mnist", 10000, 2000)
    if fashion is None:
        train, test = train_test_split(load_digits().images / 16, random_state=0)
        sizes, epochs, batch_size = (4, 8, 16), 30, "auto"
    else:
        train, test = fashion
        sizes, epochs, batch_size = (8, 16, 32, 64), 20, 100
    train, test = train.reshape(len(train), -1), test.reshape(len(test), -1)
    print(f"train: {len(train)} images, test: {len(test)}; codes stored as float16")
    print(f"{'size':>4} {'ratio':>6} | {'PSNR skae':>9} {'PCA':>6} | {'SSIM skae':>9} {'PCA':>6}")
    beaten, shown = True, {"original": test}
    for size in sizes:
        model = Autoencoder(
            n_components=size,
            hidden_layer_sizes=(512,),
            batch_size=batch_size,
            max_iter=epochs,
            random_state=0,
        ).fit(train)
        report = compression_report(model, test, train, code_dtype="float16")
        ours, pca = report["skae"], report["PCA"]
        ssim = (
            f"{ours['ssim']:9.3f} {pca['ssim']:6.3f}"
            if ours["ssim"] is not None
            else "  (no scikit-image)"
        )
        print(
            f"{size:>4} {ours['compression_ratio']:>5.0f}x | {ours['psnr']:9.2f} "
            f"{pca['psnr']:6.2f} | {ssim}"
        )
        beaten &= ours["psnr"] > pca["psnr"]
        shown[f"code {size}"] = model.inverse_transform(model.transform(test))
    side = int(round(train.shape[1] ** 0.5))
    save_rows(
        {name: images.reshape(-1, side, side) for name, images in shown.items()},
        args.out,
        "Autoencoder reconstructions at each code size",
    )
    if fashion is not None:
        print("autoencoder beats PCA's PSNR at every size:", "yes" if beaten else "NO")
        if not beaten:
            sys.exit(1)


if __name__ == "__main__":
    main()
