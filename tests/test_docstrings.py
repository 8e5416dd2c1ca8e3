"""The public API documents itself: every public name has a numpydoc docstring, and the examples in the
docstrings run (doctest) on the example data."""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import progression

SKIP_MODULES = ("progression.sources.synthetic._", "progression.chain.cli")

#: Packages whose public functions and classes each show an example in their docstring.
EXAMPLE_PACKAGES = (
    "progression.evaluation", "progression.economics", "progression.fund", "progression.transitions",
    "progression.variation", "progression.steering", "progression.design", "progression.recovery",
    "progression.disclosure", "progression.datasets", "progression._tidy", "progression._parallel",
    "progression._validation", "progression.staircase", "progression.panel", "progression.schemas",
    "progression.sources",
)
#: Not held to it yet: the multi-state model (being reworked) and the generator of the synthetic data.
WITHOUT_EXAMPLES = ("progression.transitions.ctmc", "progression.sources.synthetic")

_EXAMPLES_SECTION = re.compile(r"^Examples\n-{3,}$", re.MULTILINE)


def modules():
    out = []
    for info in pkgutil.walk_packages(progression.__path__, "progression."):
        if info.name.startswith(SKIP_MODULES):
            continue
        out.append(info.name)
    return sorted(out)


def public_names(module):
    return [(name, getattr(module, name)) for name in getattr(module, "__all__", [])]


def example_modules():
    """The modules of :data:`EXAMPLE_PACKAGES` (the packages and every module below them)."""
    def inside(name, package):
        return name == package or name.startswith(package + ".")

    return [m for m in modules() if any(inside(m, p) for p in EXAMPLE_PACKAGES)
            and not any(inside(m, p) for p in WITHOUT_EXAMPLES)]


@pytest.mark.parametrize("name", [m for m in modules() if not m.rsplit(".", 1)[-1].startswith("_")])
def test_every_public_name_has_a_docstring(name):
    module = importlib.import_module(name)
    assert module.__doc__, f"module {name} has no docstring"
    missing = [n for n, obj in public_names(module)
               if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj)]
    assert not missing, f"{name}: public names without a docstring: {missing}"


@pytest.mark.parametrize("name", modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"


@pytest.mark.parametrize("name", [n for n in progression.__all__ if n != "__version__"])
def test_every_name_of_the_public_api_documents_itself_with_an_example(name):
    doc = inspect.getdoc(getattr(progression, name)) or ""
    assert "Parameters" in doc or "Attributes" in doc or inspect.isclass(getattr(progression, name)), name
    assert "Examples" in doc, f"progression.{name} has no Examples section"


@pytest.mark.parametrize("name", example_modules())
def test_every_public_function_and_class_has_an_example(name):
    module = importlib.import_module(name)
    missing = [n for n, obj in public_names(module)
               if (inspect.isfunction(obj) or inspect.isclass(obj))
               and not _EXAMPLES_SECTION.search(inspect.getdoc(obj) or "")]
    assert not missing, f"{name}: public functions and classes without an Examples section: {missing}"
