"""The library's version, in one place: ``skgan_ad.__version__`` copies it; what records the version
(pickles, model files, the training cache) reads ``_version.__version__`` when it runs."""

__version__ = "0.1.0"
