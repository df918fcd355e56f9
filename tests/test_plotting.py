"""skae.plotting: each display draws what it says (artists counted, Agg backend)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import skae  # noqa: E402
from skae.plotting import (  # noqa: E402
    FeatureErrorDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    OutlierScoresDisplay,
    ReconstructionDisplay,
    SamplesDisplay,
)

FAST = {"max_iter": 4, "random_state": 0}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(digits):
    return skae.Autoencoder(n_components=2, **FAST).fit(digits[0])


def test_loss_curve_with_and_without_validation(fitted, digits):
    display = LossCurveDisplay.from_estimator(fitted)
    assert len(display.lines_) == 1 and len(display.lines_[0].get_xdata()) == fitted.n_iter_
    assert display.ax_.get_xlabel() == "epoch" and display.ax_.get_title() == "Autoencoder"
    stopped = skae.Autoencoder(early_stopping=True, **FAST).fit(digits[0])
    display = LossCurveDisplay.from_estimator(stopped)
    assert [line.get_label() for line in display.lines_] == ["training loss", "validation score"]
    assert len(display.figure_.axes) == 2  # the validation score has its own y-axis
    _, ax = plt.subplots()
    assert LossCurveDisplay([3.0, 2.0]).plot(ax=ax).ax_ is ax


def test_several_loss_curves_share_one_axes_and_legend():
    _, ax = plt.subplots()
    LossCurveDisplay([3.0, 2.0]).plot(ax=ax, label="from scratch")
    display = LossCurveDisplay([2.0, 1.0]).plot(ax=ax, label="from trained layers")
    assert len(ax.get_lines()) == 2
    labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert labels == ["from scratch", "from trained layers"]


def test_reconstructions_show_originals_above_reconstructions(fitted, digits):
    display = ReconstructionDisplay.from_estimator(fitted, digits[1], n_images=6)
    assert display.axes_.shape == (2, 6) and len(display.images_) == 12
    np.testing.assert_allclose(display.images_[0].get_array(), digits[1][0].reshape(8, 8))
    expected = fitted.inverse_transform(fitted.transform(digits[1][:1])).reshape(8, 8)
    np.testing.assert_allclose(display.images_[6].get_array(), expected, rtol=1e-6)
    assert display.axes_[1, 0].get_ylabel() == "reconstructed"
    # Every row on the originals' intensity scale: a faint reconstruction looks faint.
    low, high = digits[1][:6].min(), digits[1][:6].max()
    assert all(image.get_clim() == (low, high) for image in display.images_)


def test_regressor_rows_are_inputs_targets_and_predictions(digits):
    noisy = np.clip(digits[0] + 0.2, 0, 1)
    regressor = skae.AutoencoderRegressor(**FAST).fit(noisy, digits[0])
    display = ReconstructionDisplay.from_estimator(regressor, noisy, digits[0], n_images=3)
    assert [row[0].get_ylabel() for row in display.axes_] == ["input", "target", "predicted"]
    np.testing.assert_allclose(
        display.images_[-1].get_array(), regressor.predict(noisy[2:3]).reshape(8, 8), rtol=1e-6
    )
    assert display.axes_.shape == (3, 3)


def test_rows_of_several_models_and_colour_images():
    rng = np.random.default_rng(0)
    colour = rng.uniform(0, 1, size=(4, 5, 6, 3))
    rows = {"too bright": colour + 1.0, "exact": colour}
    display = ReconstructionDisplay.from_predictions(colour, rows, images_label="target")
    assert [row[0].get_ylabel() for row in display.axes_] == ["target", "too bright", "exact"]
    assert display.images_[4].get_array().shape == (5, 6, 3)
    # Colour is clipped to the top row's range: values above it show as its maximum.
    np.testing.assert_allclose(display.images_[4].get_array().max(), 1.0)
    np.testing.assert_allclose(
        display.images_[8].get_array(), (colour[0] - colour.min()) / np.ptp(colour), rtol=1e-6
    )
    with pytest.raises(ValueError, match="'exact' holds 2 images"):
        ReconstructionDisplay.from_predictions(colour, {"exact": colour[:2]})


def test_latent_space_coloured_by_label_with_pca_beside(fitted, digits):
    display = LatentSpaceDisplay.from_estimator(fitted, digits[1], digits[3], with_pca=True)
    assert [ax.get_title() for ax in display.axes_] == ["autoencoder code", "PCA"]
    offsets = display.scatters_[0].get_offsets()
    np.testing.assert_allclose(offsets, fitted.transform(digits[1]), rtol=1e-6)
    np.testing.assert_array_equal(display.scatters_[0].get_array(), digits[3])
    assert len(LatentSpaceDisplay.from_estimator(fitted, digits[1]).axes_) == 1


def test_outlier_scores_histogram_threshold_and_images(digits):
    detector = skae.AutoencoderOutlierDetector(n_estimators=2, random_state=0).fit(digits[0])
    display = OutlierScoresDisplay.from_estimator(detector, digits[1], n_images=5)
    assert display.threshold_line_.get_xdata()[0] == detector.offset_
    assert sum(patch.get_height() for patch in display.ax_.patches) == len(digits[1])
    assert len(display.image_axes_) == 5
    worst = digits[1][np.argmin(detector.score_samples(digits[1]))].reshape(8, 8)
    np.testing.assert_allclose(display.image_axes_[0].images[0].get_array(), worst)
    plain = OutlierScoresDisplay.from_predictions(np.arange(10.0))
    assert plain.threshold_line_ is None and plain.image_axes_ == []


def test_feature_errors_as_bars_or_pixels(fitted, digits):
    display = FeatureErrorDisplay.from_estimator(fitted, digits[1][0], image_shape=(8, 8))
    np.testing.assert_allclose(
        display.artist_.get_array(), fitted.reconstruction_error(digits[1][:1]).reshape(8, 8)
    )
    bars = FeatureErrorDisplay.from_estimator(fitted, digits[1][0])
    assert len(bars.artist_.patches) == 64
    heights = [patch.get_height() for patch in bars.artist_.patches]
    np.testing.assert_allclose(heights, fitted.reconstruction_error(digits[1][:1])[0])


def test_vae_samples_and_interpolation(digits):
    vae = skae.VariationalAutoencoder(n_components=2, **FAST).fit(digits[0])
    display = SamplesDisplay.from_estimator(
        vae, n_samples=6, x_a=digits[1][0], x_b=digits[1][1], n_steps=4, random_state=0
    )
    assert display.axes_.shape == (2, 6) and len(display.images_) == 10
    assert [row[0].get_ylabel() for row in display.axes_] == ["samples", "interpolation"]
    np.testing.assert_allclose(
        display.images_[0].get_array(),
        np.clip(vae.sample(6, random_state=0)[0], 0, 1).reshape(8, 8),
        rtol=1e-6,
    )


def test_displays_share_one_figure_through_subfigures(fitted, digits):
    figure = plt.figure()
    top, bottom = figure.subfigures(2, 1)
    reconstruction = ReconstructionDisplay.from_estimator(fitted, digits[1], n_images=3, figure=top)
    latent = LatentSpaceDisplay.from_estimator(fitted, digits[1], digits[3], figure=bottom)
    assert reconstruction.figure_ is top and latent.figure_ is bottom
    assert len(figure.get_axes()) == 6 + 1 + 1  # images, the scatter and its colour bar


def test_non_square_rows_need_an_image_shape(digits):
    with pytest.raises(ValueError, match="image_shape"):
        ReconstructionDisplay.from_predictions(np.zeros((2, 10)), np.zeros((2, 10)))
