"""progression: reproducible research on the Danish specialised adult social area."""

__version__ = "0.1.0"
