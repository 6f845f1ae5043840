"""crosstrain: cross-train data scientists and cloud engineers against a local, offline AWS."""


def __getattr__(name: str) -> str:
    """``__version__``, looked up on first use: reading the installed metadata costs tens of
    milliseconds that every process (the sandbox's start, a CLI call) would otherwise pay."""
    if name != "__version__":
        raise AttributeError(f"module 'crosstrain' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("crosstrain")
    except PackageNotFoundError:  # running from a source tree without installation
        found = "0.0.0"
    globals()["__version__"] = found
    return found
