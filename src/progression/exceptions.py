"""Exceptions and warnings of the package.

Every error names the thing that is wrong, what was expected and what was found.
"""


class ProgressionError(Exception):
    """Base class of the package's errors."""


class ParameterError(ProgressionError, ValueError):
    """A parameter file has an unknown key, a wrong type or an impossible value."""


class DataContractError(ProgressionError, ValueError):
    """One or more input tables break their data contract (see ``progression.schemas``)."""


class DisclosureError(ProgressionError, ValueError):
    """A table would leave the run with person-level content."""


class ConvergenceError(ProgressionError, ValueError):
    """An optimiser did not converge."""


class NotFittedError(ProgressionError, AttributeError):
    """A method was called on an estimator before ``fit``."""


class ChainError(ProgressionError, RuntimeError):
    """A notebook of the chain failed, or the chain cannot run.

    ``exit_code`` is 2 when the cause is the user's to fix (bad parameters or data inside a notebook, a
    notebook that needs another that has not run) and 1 for an internal failure.
    """

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class StatisticalWarning(RuntimeWarning):
    """A statistical caveat (small groups, sparse transitions, weak overlap)."""


class ApproximationWarning(RuntimeWarning):
    """A numerical approximation may be inaccurate."""


#: Failures of the package itself, not of what it was given: exit status 1. Every other error of the
#: package is the user's to fix (a parameter, the data, a table refused by disclosure control): exit 2.
INTERNAL_ERRORS = (ChainError, NotFittedError)


def exit_code(err: ProgressionError) -> int:
    """The command line's exit status for ``err``: a :class:`ChainError`'s own, 1 for other internal failures
    (:data:`INTERNAL_ERRORS`), 2 for an error the user can fix."""
    if isinstance(err, ChainError):
        return err.exit_code
    return 1 if isinstance(err, INTERNAL_ERRORS) else 2


def user_error_class(name: str | None) -> type[ProgressionError] | None:
    """The package's user-error class called ``name`` (as a notebook reports it), or None."""
    pending, seen = [ProgressionError], set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__name__ == name and cls is not ProgressionError and not issubclass(cls, INTERNAL_ERRORS):
            return cls
        pending.extend(cls.__subclasses__())
    return None
