"""Fitting the extensions of the basic model: misclassification (``ematrix``), piecewise-constant
intensities (``pci``) and constrained or fixed parameters.

``MultiStateModel.fit`` hands over here when any of them is asked for; the fitted model gets the same
attributes as a basic fit (so every extractor works), plus ``ematrix_``, ``initprobs_``, ``pci_`` and
``n_free_params_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.optimize

from progression.exceptions import ParameterError

from ._constraints import ConstrainedLikelihood, ParameterMap, parameter_map
from ._data import prepare_panel, qspec_from
from ._hmm import ForwardLikelihood, initspec_from, miscspec_from, prepare_sequences
from ._likelihood import PanelLikelihood
from ._optimise import maximise, polish
from ._piecewise import check_cuts

#: Keyword arguments of ``fit`` that call for this path, with the values that do not.
OPTIONS = {"ematrix": None, "obstrue": None, "initprobs": None, "est_initprobs": False, "pci": None,
           "qconstraint": None, "constraint": None, "econstraint": None, "fixedpars": None}


def reset_extensions(model) -> None:
    """Forget what a previous fit with extensions left on ``model``."""
    model.pci_ = model.ematrix_ = model.initprobs_ = None
    for name in ("n_free_params_", "_pmap", "_full_params", "_full_vcov", "_observation_cache"):
        model.__dict__.pop(name, None)


def wanted(options: dict) -> bool:
    """Whether any extension is asked for."""
    return any(options.get(k, v) is not v and options.get(k, v) is not None and options.get(k, v) is not False
               for k, v in OPTIONS.items())


def fit_extended(model, data: pd.DataFrame, *, subject: str, time: str, state: str, qmatrix, death_states,
                 covariates, ematrix=None, obstrue=None, initprobs=None, est_initprobs=False, pci=None,
                 qconstraint=None, constraint=None, econstraint=None, fixedpars=None):
    """Fit ``model`` (a ``MultiStateModel``) with the extensions; returns the model."""
    model._check_settings()
    spec = qspec_from(qmatrix, death_states)
    covariates = [] if covariates is None else ([covariates] if isinstance(covariates, str) else list(covariates))
    hidden = ematrix is not None
    if not hidden and (obstrue is not None or initprobs is not None or est_initprobs):
        raise ParameterError("obstrue, initprobs and est_initprobs belong to a misclassification model: "
                             "give an ematrix")
    cuts = check_cuts(pci, data[time]) if pci is not None else np.zeros(0)
    forward = hidden or len(cuts) > 0
    if forward:
        seqs = prepare_sequences(data, subject=subject, time=time, state=state, spec=spec, covariates=covariates,
                                 hidden=hidden, obstrue=obstrue, cuts=cuts, centre=model.center)
        misc = miscspec_from(ematrix, spec.states) if hidden else None
        lik = ForwardLikelihood(spec, seqs, misc, initspec_from(initprobs, est_initprobs, spec.states))
        design, raw_means = seqs, seqs.raw_means
        n_obs, n_intervals = seqs.n_observations, seqs.n_steps
        start = lik.start()
    else:
        panel = prepare_panel(data, subject=subject, time=time, state=state, spec=spec, covariates=covariates)
        raw_means = panel.x.mean(axis=0)
        lik = PanelLikelihood(spec, panel, raw_means if model.center else np.zeros_like(raw_means))
        design, n_obs, n_intervals = panel, panel.n_observations, len(panel.dt)
        start = np.concatenate([np.log(spec.init), np.zeros(lik.n_params - spec.n_transitions)])
        misc = None
    centre = raw_means if model.center else np.zeros_like(raw_means)

    terms = design.terms
    labels = _labels(spec, terms, misc, lik)
    n_q = spec.n_transitions * (1 + len(terms))
    blocks = {"baseline": slice(0, spec.n_transitions)}
    if misc is not None:
        blocks["misc"] = slice(n_q, n_q + misc.n_params)
    pmap = parameter_map(labels, start, blocks=blocks, transitions=spec.transition_labels, terms=terms,
                         qconstraint=qconstraint, constraint=constraint, econstraint=econstraint,
                         fixedpars=fixedpars)
    if pmap.n_free == 0:
        params, vcov, n_iter = pmap.b.copy(), np.full((len(labels), len(labels)), np.nan), 0
        np.fill_diagonal(vcov, 0.0)
    else:
        target = lik if pmap.n_free == len(labels) and not pmap.fixed.any() and _identity(pmap) \
            else ConstrainedLikelihood(lik, pmap)
        optimiser = maximise_forward if forward else maximise
        free, hessian, n_iter = optimiser(target, pmap.free(start) if target is not lik else start,
                                          model.max_iter, model.tol)
        params = pmap.full(free) if target is not lik else free
        cov_free = 2.0 * np.linalg.inv(hessian)
        vcov = pmap.a @ cov_free @ pmap.a.T if target is not lik else cov_free

    index = pd.MultiIndex.from_tuples(labels, names=["term", "from_state", "to_state"])
    model._spec, model._panel, model._lik, model._centre = spec, design, lik, centre
    model.states_ = list(spec.states)
    model.transitions_ = spec.transition_labels
    model.terms_ = terms
    model.covariate_means_ = pd.Series(raw_means, index=terms, dtype=float)
    model.params_ = pd.Series(params[:n_q], index=index[:n_q])
    model.vcov_ = pd.DataFrame(vcov[:n_q, :n_q], index=index[:n_q], columns=index[:n_q])
    model.minus2loglik_ = lik.minus2loglik(params)
    model.n_free_params_ = pmap.n_free
    model.aic_ = model.minus2loglik_ + 2 * pmap.n_free
    model.n_subjects_, model.n_observations_ = design.n_subjects, n_obs
    model.n_intervals_, model.n_groups_, model.n_iter_ = n_intervals, lik.n_groups, n_iter
    model.qmatrix_ = spec.frame(spec.build(lik.rates(params, np.zeros((1, len(terms))))[0]))
    model._pmap = pmap
    model._full_params = pd.Series(params, index=index)
    model._full_vcov = pd.DataFrame(vcov, index=index, columns=index)
    model.pci_ = list(cuts) if pci is not None else None
    if hidden:
        model.ematrix_ = spec.frame(lik.ematrix(params))
        model.initprobs_ = pd.Series(lik.initprobs(params), index=spec.states.copy(), name="initprobs")
    else:
        model.ematrix_ = model.initprobs_ = None
    return model


def maximise_forward(lik, start: np.ndarray, max_iter: int, tol: float):
    """BFGS from the identity, then Newton steps with one finite-difference Hessian.

    The Hessian of a forward-algorithm likelihood costs two gradients per parameter and is often
    indefinite at the starting values, so it is computed once, at the BFGS optimum, where it also
    gives the standard errors (msm takes them from ``optimHess`` there too).
    """
    result = scipy.optimize.minimize(lik.minus2loglik_and_gradient, start, jac=True, method="BFGS",
                                     options={"gtol": 1e-4, "maxiter": max_iter})
    params, hessian = polish(lik, result, max_iter, tol, refresh_hessian=False)
    return params, hessian, int(result.nit)


def _identity(pmap: ParameterMap) -> bool:
    return pmap.a.shape[0] == pmap.a.shape[1] and np.array_equal(pmap.a, np.eye(pmap.a.shape[0]))


def _labels(spec, terms, misc, lik) -> list[tuple]:
    labels = [(term, r, s) for term in ["baseline", *terms] for r, s in spec.transition_labels]
    if misc is not None:
        labels += [("misc", spec.states[r], spec.states[s]) for r, s in zip(misc.rows, misc.cols)]
    init = getattr(lik, "init", None)
    if init is not None and init.n_params:
        labels += [("initp", spec.states[s], spec.states[s]) for s in init.free]
    return labels
