"""The one error type the harness raises for bad input or an impossible request.

The CLI prints its message on one line and exits with `EXIT_BAD_INPUT`. Messages name the file or
field, what was expected and what was found, so that a user can act on them without a traceback.
"""

EXIT_BAD_INPUT = 2


class BenchError(Exception):
    """Bad input, a missing data set, an absent device: anything the user can fix."""

    def __init__(self, message, *, path=None, field=None):
        self.path = str(path) if path is not None else None
        self.field = field
        prefix = ""
        if self.path:
            prefix += f"{self.path}: "
        if field:
            prefix += f"{field}: "
        super().__init__(prefix + message)
