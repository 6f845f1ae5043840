"""The one error type a user can cause: the CLI prints it as one line and exits non-zero."""


class CrosstrainError(Exception):
    """An error the user can fix; ``str(err)`` names the fix. Never shown with a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
