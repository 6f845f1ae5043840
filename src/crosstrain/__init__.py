"""crosstrain: cross-train data scientists and cloud engineers against a local, offline AWS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crosstrain")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
