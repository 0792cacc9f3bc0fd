"""convgif: declarative scene files to convolution-teaching GIFs."""

__version__ = "0.1.0"
