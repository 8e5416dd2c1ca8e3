"""nbval runs each notebook of the chain top to bottom with its default parameters
(``params/ci.yaml``, run folder ``runs/interactive``); they carry the ``notebooks`` marker."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.fspath.ext == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
