"""Continuous-time multi-state Markov models for panel data (msm-style).

Citizens move between steps of the staircase in continuous time, but are observed only at
irregular times (reassessments, yearly register extracts).  A time-homogeneous Markov chain with
intensity matrix Q gives the probability of each observed move over an interval of length t as
``P(t) = expm(tQ)``; this module fits Q, and log-linear covariate effects on it, by maximum
likelihood, as R's msm package does (Jackson 2011), and derives the quantities an analyst reads off
a fitted model.

Fitting: ``fit`` / ``MultiStateModel``, ``crude_inits``, ``statetable``, ``minus2loglik``; with
misclassification (``ematrix``, ``obstrue``: a hidden Markov model with ``ematrix()``, ``viterbi()``),
piecewise-constant intensities (``pci``) and constrained or fixed parameters (``qconstraint``,
``constraint``, ``econstraint``, ``fixedpars``).  Does it fit: ``MultiStateModel.prevalence``,
``MultiStateModel.pearson``, ``lrtest``; uncertainty by resampling citizens: ``MultiStateModel.bootstrap``.
Scenarios on a bare intensity matrix: ``pmatrix``, ``sojourn``, ``pnext``, ``totlos``, ``efpt``,
``envisits``, ``ppass``, ``transition_probabilities``.  Known truth: ``simulate_panel``.

References
----------
Kalbfleisch, J. D. & Lawless, J. F. (1985). The analysis of panel data under a Markov assumption.
Journal of the American Statistical Association, 80(392), 863-871.

Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29.
"""

from ._describe import crude_inits, statetable
from ._extract import pmatrix, pnext, sojourn, totlos, transition_probabilities
from ._goodness import PearsonTest, interval_transitions, lrtest_table as lrtest
from ._model import MultiStateModel, fit, minus2loglik
from ._passage import efpt, envisits, ppass
from ._simulate import simulate_panel

__all__ = [
    "MultiStateModel",
    "PearsonTest",
    "crude_inits",
    "efpt",
    "envisits",
    "fit",
    "interval_transitions",
    "lrtest",
    "minus2loglik",
    "pmatrix",
    "pnext",
    "ppass",
    "simulate_panel",
    "sojourn",
    "statetable",
    "totlos",
    "transition_probabilities",
]
