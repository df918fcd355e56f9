"""Image quality and compression: how well a code stands for the images it encodes.

``psnr`` and ``compression_report`` measure an autoencoder as an image codec:
the bytes of its code against the bytes of the images, and how close the
decoded images come, beside ``PCA`` with a code of the same size.
"""

import math

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

CODE_DTYPES = ("float16", "float32", "float64")


def psnr(images_true, images_pred, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    Over all values of all images together, as scikit-image's
    ``peak_signal_noise_ratio`` computes it for one array.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.metrics import psnr
    >>> round(psnr(np.zeros(4), np.full(4, 0.1)), 6)
    20.0
    """
    error = np.mean(np.square(np.asarray(images_true, float) - np.asarray(images_pred, float)))
    return float("inf") if error == 0 else float(10 * np.log10(data_range**2 / error))


def mean_ssim(images_true, images_pred, image_shape, *, data_range: float = 1.0) -> float | None:
    """Mean structural similarity of the images, or None without scikit-image
    (``pip install "skae[images]"``)."""
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        return None
    height, width, channels = image_shape
    true = np.asarray(images_true, float).reshape(-1, height, width, channels)
    pred = np.asarray(images_pred, float).reshape(-1, height, width, channels)
    # scikit-image's default 7x7 window needs images of at least 7 pixels a side.
    window = min(7, height, width)
    window -= 1 - window % 2  # an odd size
    scores = [
        structural_similarity(a, b, data_range=data_range, channel_axis=-1, win_size=window)
        for a, b in zip(true, pred)
    ]
    return float(np.mean(scores))


def compression_report(
    estimator,
    X,
    X_fit=None,
    *,
    code_dtype: str = "float16",
    input_dtype: str = "uint8",
    image_shape=None,
    data_range: float = 1.0,
) -> dict[str, dict]:
    """Compression ratio and quality of a fitted autoencoder on images, beside ``PCA``.

    Each image of ``X`` is encoded, its code cast to ``code_dtype`` (what a
    file of codes would hold), and decoded. The compression ratio is the bytes
    of an image stored as ``input_dtype`` (``uint8`` pixels, as image files
    hold them) over the bytes of its code; quality is the PSNR of the decoded
    images (and the mean SSIM where scikit-image is installed). ``PCA`` with
    as many components as the estimator's code, fitted on ``X_fit`` (the data
    the estimator was fitted on), is measured the same way.

    Parameters
    ----------
    estimator : fitted skae autoencoder
        With ``transform`` and ``inverse_transform``.
    X : array-like of shape (n_samples, n_features) or images
        Images to compress, with values in ``[0, data_range]``.
    X_fit : array-like, default=None
        Data to fit the ``PCA`` on; None leaves ``PCA`` out.
    code_dtype : {"float16", "float32", "float64"}, default="float16"
        Precision the codes are stored in.
    input_dtype : str, default="uint8"
        Precision the images are stored in, for the ratio.
    image_shape : tuple of int, default=None
        ``(height, width[, channels])`` for SSIM; read from the estimator
        (``image_shape_``) or, for square single-channel images, from the
        width of ``X``.
    data_range : float, default=1.0
        Range of the pixel values, for PSNR and SSIM.

    Returns
    -------
    report : dict
        ``{"skae": {...}, "PCA": {...}}``, each with ``n_components``,
        ``code_bytes``, ``compression_ratio``, ``psnr`` and ``ssim`` (None
        without scikit-image).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import Autoencoder
    >>> from skae.metrics import compression_report
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(n_components=8, max_iter=20, random_state=0).fit(X)
    >>> report = compression_report(ae, X, X)
    >>> report["skae"]["compression_ratio"]      # 64 uint8 pixels / 8 float16 values
    4.0
    >>> sorted(report)
    ['PCA', 'skae']
    """
    check_is_fitted(estimator)
    if code_dtype not in CODE_DTYPES:
        raise ValueError(f"code_dtype must be one of {CODE_DTYPES}; got {code_dtype!r}.")
    X = np.asarray(X, dtype=float)
    flat = X.reshape(len(X), -1)
    shape = _image_shape(estimator, image_shape, flat.shape[1])
    methods = {"skae": (estimator.transform, estimator.inverse_transform)}
    if X_fit is not None:
        X_fit = np.asarray(X_fit, dtype=float)
        pca = PCA(n_components=estimator.n_components_).fit(X_fit.reshape(len(X_fit), -1))
        methods["PCA"] = (
            lambda data: pca.transform(data.reshape(len(data), -1)),
            pca.inverse_transform,
        )
    input_bytes = flat.shape[1] * np.dtype(input_dtype).itemsize
    report = {}
    for name, (encode, decode) in methods.items():
        codes = np.asarray(encode(X)).astype(code_dtype).astype(float)
        decoded = np.asarray(decode(codes)).reshape(flat.shape)
        code_bytes = codes.shape[1] * np.dtype(code_dtype).itemsize
        report[name] = {
            "n_components": int(codes.shape[1]),
            "code_bytes": int(code_bytes),
            "compression_ratio": input_bytes / code_bytes,
            "psnr": psnr(flat, decoded, data_range=data_range),
            "ssim": mean_ssim(flat, decoded, shape, data_range=data_range),
        }
    return report


def _image_shape(estimator, image_shape, n_features: int) -> tuple[int, int, int]:
    if image_shape is None:
        image_shape = getattr(estimator, "image_shape_", None)
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"Rows of {n_features} values are not square images: give image_shape."
            )
        image_shape = (side, side)
    image_shape = tuple(int(size) for size in image_shape)
    return image_shape if len(image_shape) == 3 else (*image_shape, 1)
