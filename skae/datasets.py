"""Paired image data for trying the image-to-image estimators.

Each function turns images you already have (``load_digits().images``,
MNIST, the photos of ``load_sample_images``) into ``(inputs, targets)`` pairs
for :class:`skae.AutoencoderRegressor` and
:class:`skae.ConvolutionalAutoencoderRegressor`: watermarked and clean, noisy
and clean, grey and colour. Images are float arrays with values in [0, 1].
"""

import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.utils import check_random_state

# A 3x5 pixel font, enough for short watermark texts.
_FONT = {
    "a": ("010", "101", "111", "101", "101"),
    "e": ("111", "100", "111", "100", "111"),
    "k": ("101", "110", "100", "110", "101"),
    "s": ("111", "100", "111", "001", "111"),
    "x": ("101", "101", "010", "101", "101"),
}

# ITU-R BT.601 luma weights, as most greyscale conversions use.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def text_stamp(text: str) -> np.ndarray:
    """The pixels of ``text`` in a 3x5 font, 1 where ink, 0 elsewhere.

    Letters ``a e k s x`` only (enough for the examples' ``"skae"``).

    Examples
    --------
    >>> from skae.datasets import text_stamp
    >>> text_stamp("sk").shape
    (5, 7)
    """
    unknown = sorted(set(text) - set(_FONT))
    if not text or unknown:
        raise ValueError(f"text_stamp draws the letters {sorted(_FONT)}; got {text!r}.")
    glyphs = [np.array([[int(p) for p in row] for row in _FONT[letter]]) for letter in text]
    spaced = [part for glyph in glyphs for part in (glyph, np.zeros((5, 1), int))][:-1]
    return np.hstack(spaced).astype(float)


def add_watermark(images, stamp=None, opacity=0.5, random_state=None) -> np.ndarray:
    """Blend a white ``stamp`` into each image at a random place.

    Each pixel under the stamp becomes ``(1 - opacity) * pixel + opacity``, as
    a semi-transparent white logo or text would leave it; the place is drawn
    afresh for each image, so that a model must find the mark, not learn one
    fixed correction.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (..., channels)
        Images with values in [0, 1].
    stamp : array-like of shape (stamp_height, stamp_width), default=None
        Opacity mask of the mark (0 to 1). None: a 3x3 cross on images
        smaller than 16 pixels, else ``text_stamp("skae")``.
    opacity : float, default=0.5
        How white the mark makes the pixels under it.
    random_state : int, RandomState instance or None, default=None
        Seeds the places.

    Returns
    -------
    watermarked : ndarray of the shape of ``images``

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae.datasets import add_watermark
    >>> clean = load_digits().images / 16
    >>> marked = add_watermark(clean, random_state=0)
    >>> marked.shape, bool((marked >= clean).all())
    ((1797, 8, 8), True)
    """
    images = np.asarray(images, dtype=float)
    height, width = images.shape[1:3]
    if stamp is None:
        stamp = np.eye(3) + np.eye(3)[::-1] > 0 if min(height, width) < 16 else text_stamp("skae")
    stamp = np.asarray(stamp, dtype=float)
    if stamp.shape[0] > height or stamp.shape[1] > width:
        raise ValueError(f"The stamp {stamp.shape} is larger than the images {(height, width)}.")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must lie in [0, 1]; got {opacity}.")
    rng = check_random_state(random_state)
    alpha = opacity * stamp.reshape(*stamp.shape, *[1] * (images.ndim - 3))
    marked = images.copy()
    rows = rng.randint(0, height - stamp.shape[0] + 1, len(images))
    cols = rng.randint(0, width - stamp.shape[1] + 1, len(images))
    for image, row, col in zip(marked, rows, cols):
        region = image[row : row + stamp.shape[0], col : col + stamp.shape[1]]
        region[...] = (1 - alpha) * region + alpha
    return marked


def add_gaussian_noise(images, noise_level=0.3, random_state=None) -> np.ndarray:
    """``images`` plus Gaussian noise of standard deviation ``noise_level``, clipped to [0, 1].

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae.datasets import add_gaussian_noise
    >>> noisy = add_gaussian_noise(load_digits().images / 16, random_state=0)
    >>> float(noisy.min()), float(noisy.max())
    (0.0, 1.0)
    """
    images = np.asarray(images, dtype=float)
    noise = check_random_state(random_state).normal(0.0, noise_level, images.shape)
    return np.clip(images + noise, 0.0, 1.0)


def to_grey(images) -> np.ndarray:
    """Luma of colour images ``(n, h, w, 3)``, as ``(n, h, w, 1)`` images.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.datasets import to_grey
    >>> to_grey(np.ones((2, 4, 4, 3))).shape
    (2, 4, 4, 1)
    """
    images = np.asarray(images, dtype=float)
    return (images @ LUMA_WEIGHTS)[..., None]


def load_colour_patches(size=16) -> np.ndarray:
    """Non-overlapping ``size`` x ``size`` colour patches of ``load_sample_images``.

    The two photos that ship with scikit-learn (a temple in China and a
    flower), cut into patches with values in [0, 1]: with :func:`to_grey`,
    pairs for learning to colourise.

    Returns
    -------
    patches : ndarray of shape (n_patches, size, size, 3)

    Examples
    --------
    >>> from skae.datasets import load_colour_patches, to_grey
    >>> colour = load_colour_patches()
    >>> colour.shape, to_grey(colour).shape
    ((2080, 16, 16, 3), (2080, 16, 16, 1))
    """
    patches = []
    for photo in load_sample_images().images:
        height, width = photo.shape[0] // size * size, photo.shape[1] // size * size
        tiles = photo[:height, :width].reshape(height // size, size, width // size, size, 3)
        patches.append(tiles.transpose(0, 2, 1, 3, 4).reshape(-1, size, size, 3))
    return np.concatenate(patches) / 255.0
