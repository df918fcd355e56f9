"""skae: autoencoders that behave like scikit-learn transformers."""

from ._autoencoder import Autoencoder
from ._compilation_cache import enable_compilation_cache
from ._contractive import ContractiveAutoencoder
from ._convolutional import ConvolutionalAutoencoder
from ._denoising import ConvolutionalDenoisingAutoencoder, DenoisingAutoencoder
from ._outliers import AutoencoderOutlierDetector
from ._persistence import load, save, skops_trusted_types
from ._regressor import AutoencoderRegressor, ConvolutionalAutoencoderRegressor
from ._sparse import SparseAutoencoder
from ._variational import ConvolutionalVariationalAutoencoder, VariationalAutoencoder

__all__ = [
    "Autoencoder",
    "AutoencoderOutlierDetector",
    "AutoencoderRegressor",
    "ContractiveAutoencoder",
    "ConvolutionalAutoencoder",
    "ConvolutionalAutoencoderRegressor",
    "ConvolutionalDenoisingAutoencoder",
    "ConvolutionalVariationalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "enable_compilation_cache",
    "load",
    "save",
    "skops_trusted_types",
]
__version__ = "0.1.0"
