"""What every figure shares: one colour per step, colour-blind-safe colours, a size that fits the report's
column, and words in the report's language.

* **Colours.** Each step of the staircase has one colour in every figure (:func:`step_colours`, from the
  Okabe-Ito palette, which readers with colour-vision deficiencies tell apart); other series take the
  Okabe-Ito cycle (:func:`use_style` sets it as matplotlib's default) and change classes
  :data:`CLASS_COLOURS`.
* **Suppressed cells** are drawn one way: light grey, hatched or marked ``·`` (:data:`SUPPRESSED_COLOUR`,
  :data:`SUPPRESSED_MARK`), never silently left out.
* **Size.** The report's column is :data:`PAGE_WIDTH` inches wide at the resolution figures are saved
  at; :func:`figure_size` keeps a multi-panel figure within it, so its words keep their size on the page.
* **Words** come from the label registry (:func:`progression.texts.label`) in the language
  :meth:`~progression.chain.run_context.RunContext.open` sets (:func:`word`).

References
----------
Okabe, M. & Ito, K. (2008). *Color Universal Design (CUD): how to make figures and presentations that
are friendly to colorblind people*. J*Fly.

Examples
--------
>>> colours = step_colours()
>>> colours["none"], colours["SEL85"], colours["died"]
('#999999', '#009E73', '#000000')
>>> figure_size(3, panel=(4.0, 3.0))
(9.0, 3.0)
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

from progression.staircase import as_staircase
from progression.texts import SUPPRESSED_MARK, current_language, label, localise_number, text

__all__ = ["OKABE_ITO", "STEP_PALETTE", "NONE_COLOUR", "EXIT_COLOURS", "CLASS_COLOURS", "SUPPRESSED_COLOUR",
           "SUPPRESSED_MARK", "HIDDEN_STYLE", "PAGE_WIDTH", "step_colours", "use_style", "figure_size", "word",
           "code_names", "localise_ticks"]

#: The Okabe-Ito palette (black first): colours readers with colour-vision deficiencies tell apart.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: Colours of the steps above "no service", from the lowest to the highest (Okabe & Ito 2008).
STEP_PALETTE = ("#56B4E9", "#009E73", "#E69F00", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
#: The no-service step.
NONE_COLOUR = "#999999"
#: Exits: death, emigration, a move out of the municipality.
EXIT_COLOURS = {"died": "#000000", "emigrated": "#5F5F5F", "moved": "#B9B9B9"}
#: One colour per change class (progression, maintenance, degression).
CLASS_COLOURS = {"progression": "#009E73", "maintenance": "#BBBBBB", "degression": "#D55E00"}
#: A suppressed cell's fill.
SUPPRESSED_COLOUR = "#E6E6E6"
#: How a hidden bar or bin is drawn: an empty hatched outline.
HIDDEN_STYLE = {"facecolor": "none", "edgecolor": "#7f7f7f", "hatch": "///", "linewidth": 0.6}
#: Width of the report's column in inches (990 px at the 110 dpi figures are saved at).
PAGE_WIDTH = 9.0
#: The default colour cycle: Okabe-Ito without black and yellow (too light for lines on white).
_CYCLE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")


def step_colours(states: Sequence[str] | None = None, *, staircase=None) -> dict[str, str]:
    """One colour per step (and exit), the same in every figure.

    The no-service step is grey, the steps above it take :data:`STEP_PALETTE` in the staircase's
    order, the exits :data:`EXIT_COLOURS`; another state (a step of another staircase, a group) gets
    one of the remaining colours, chosen by its name, so it too has the same colour in every figure.

    Parameters
    ----------
    states : sequence of str, optional
        States to colour besides the staircase's steps and exits.
    staircase : Staircase or StaircaseParams, optional

    Returns
    -------
    dict of str to str
        State -> hex colour.
    """
    stairs = as_staircase(staircase)
    out = {stairs.none_step: NONE_COLOUR,
           **{s: STEP_PALETTE[i % len(STEP_PALETTE)] for i, s in enumerate(stairs.service_steps)},
           **EXIT_COLOURS}
    spare = [c for c in STEP_PALETTE if c not in out.values()] or list(STEP_PALETTE)
    # a state the staircase does not know keeps its colour from figure to figure: it follows from its name
    out.update({str(s): spare[zlib.crc32(str(s).encode()) % len(spare)] for s in (states or ()) if str(s) not in out})
    return out


def use_style() -> None:
    """Make the shared look matplotlib's default: the colour-blind-safe cycle and sizes for the report."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=list(_CYCLE)),
        "font.size": 9,
        "axes.titlesize": 9.5,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "figure.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def figure_size(n_cols: int = 1, *, panel: tuple[float, float] = (4.5, 3.4), n_rows: int = 1,
                width: float | None = None) -> tuple[float, float]:
    """The size of a figure of ``n_rows`` x ``n_cols`` panels that fits the report's column.

    Panels keep their height; their width shrinks so the figure is at most :data:`PAGE_WIDTH` wide
    (``width`` asks for a narrower figure).
    """
    limit = min(width or PAGE_WIDTH, PAGE_WIDTH)
    return (round(min(panel[0] * n_cols, limit), 2), round(panel[1] * n_rows, 2))


def word(key: str, **values) -> str:
    """A figure's word in the current language (``labels`` of :mod:`progression.texts`), formatted with
    ``values``; the key itself when the registry has none."""
    template = label(key, default=key)
    if not values:
        return template
    return text("labels", key, **values) if template != key else key


def code_names(vocabulary: str, codes: Sequence | None = None, *, extra: dict | None = None) -> dict[str, str]:
    """Code -> its name in the current language for a vocabulary of the registry (``step``, ``sex``, …)."""
    from progression.texts import codes as registry

    names = {**registry(vocabulary, language=current_language()), **(extra or {})}
    return {str(c): names.get(str(c), str(c)) for c in codes} if codes is not None else names


_NUMBER = re.compile(r"^[\s\u2212+\-−]*[\d.,]+\s*%?$")
_WHOLE = re.compile(r"^([\u2212\-−]?)(\d{5,})$")


def _localised(formatted: str, language: str) -> str:
    """A tick label the way of ``language``: thousands separated (10,000), Danish separators swapped."""
    whole = _WHOLE.match(formatted)
    if whole:
        formatted = f"{whole.group(1)}{int(whole.group(2)):,}"
    if language == "en" or not _NUMBER.match(formatted):
        return formatted
    return localise_number(formatted, language)


def localise_ticks(fig, language: str | None = None) -> None:
    """Write the numbers on a figure's axes the way of ``language`` (default: the current one).

    Whole numbers of five digits and more get thousands separators (``120,000``); Danish tick labels read
    ``0,5`` and ``120.000``; words on the axes are left alone. Called by
    :meth:`~progression.chain.run_context.RunContext.save_figure` before a figure is saved.
    """
    language = language or current_language()
    from matplotlib.ticker import Formatter

    class _Localised(Formatter):
        def __init__(self, inner):
            self.inner = inner

        def set_axis(self, axis):
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs):
            self.inner.set_locs(locs)

        def __call__(self, x, pos=None):
            return _localised(self.inner(x, pos), language)

        def format_ticks(self, values):
            return [_localised(t, language) for t in self.inner.format_ticks(values)]

        def get_offset(self):
            return self.inner.get_offset()

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            current = axis.get_major_formatter()
            if not isinstance(current, _Localised) and type(current).__name__ != "FixedFormatter":
                axis.set_major_formatter(_Localised(current))
