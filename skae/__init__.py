"""skae: autoencoders that behave like scikit-learn transformers."""

from ._autoencoder import Autoencoder

__all__ = ["Autoencoder"]
__version__ = "0.1.0"
