"""Where the package is: its own folder, and the checkout it runs from (when it runs from one)."""

from pathlib import Path

__all__ = ["PACKAGE_DIR", "CHECKOUT", "in_checkout"]

#: The installed (or checked-out) package folder, ``.../progression``.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The project checkout the package would sit in (``<checkout>/src/progression``); may not exist.
CHECKOUT = PACKAGE_DIR.parents[1]


def in_checkout() -> bool:
    """Whether the package runs from a project checkout (an editable install), not from an installed wheel."""
    return (CHECKOUT / "src" / "progression").resolve() == PACKAGE_DIR and (CHECKOUT / "pyproject.toml").is_file()
