"""The kit's errors: one small hierarchy, each also a builtin it refines.

::

    KitError
     ├── DataFolderError (KitError, FileNotFoundError)   folder missing or empty of logs
     ├── SourceFileError (KitError, OSError)             a file cannot be read at all
     ├── SchemaError (KitError, ValueError)              required columns missing
     ├── RowError (KitError, ValueError)                 one row cannot be read (goes to the ledger)
     ├── StoreError (KitError, RuntimeError)             the store is missing or inconsistent
     ├── ConfigError (KitError, ValueError)              a bad threshold or parameter file
     └── BundleError (KitError, RuntimeError)            a bundle cannot be made or verified

Errors carry structured fields and a message that says what to do; they never
print, and they never carry an identifier of a person (file, line and column
locate the problem instead).
"""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the kit raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: str | int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f", line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
            where += ": "
        return where + self.message


class DataFolderError(KitError, FileNotFoundError):
    """The data folder does not exist, or holds no query log."""


class SourceFileError(KitError, OSError):
    """A file of the data folder cannot be read at all."""


class SchemaError(KitError, ValueError):
    """A file lacks required columns; ``missing`` lists every one of them."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = (), **where: object) -> None:
        self.missing = missing
        super().__init__(message, **where)  # type: ignore[arg-type]


class RowError(KitError, ValueError):
    """One row cannot be read; the loader records it in the ledger."""


class StoreError(KitError, RuntimeError):
    """The store is missing, or not one the kit wrote."""


class ConfigError(KitError, ValueError):
    """A configuration file or parameter is invalid."""


class BundleError(KitError, RuntimeError):
    """An evidence bundle cannot be made or does not verify."""
