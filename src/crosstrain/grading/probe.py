"""``python -m crosstrain.grading.probe``: exits 0 if this user can import what learner code
runs with (the notebook runner and nbclient); :func:`~crosstrain.grading.isolate.default_isolation`
starts it as a candidate learner user, inside the jail. Importing this module loads nothing."""

if __name__ == "__main__":
    import nbclient  # noqa: F401

    import crosstrain.labs.nbrun  # noqa: F401
