"""Maximum likelihood for ``PanelLikelihood``: BFGS with the analytic gradient, then Newton steps.

msm maximises with R's ``optim`` BFGS and takes standard errors from a numerical Hessian
(Jackson 2011); here BFGS starts from the inverse Hessian at the initial values, Newton steps polish
the optimum until the Newton decrement is below ``tol``, and the Hessian at the optimum gives the
covariance matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize

from progression.exceptions import ConvergenceError, StatisticalWarning

from ._likelihood import PanelLikelihood


def maximise(lik: PanelLikelihood, start: np.ndarray, max_iter: int, tol: float):
    """BFGS on -2 log L with the analytic gradient, then Newton steps with the Hessian."""
    hessian = lik.hessian(start)
    inverse = _inverse_if_positive(hessian)
    result = scipy.optimize.minimize(
        lik.minus2loglik_and_gradient, start, jac=True, method="BFGS",
        options={"gtol": 1e-4, "maxiter": max_iter, "hess_inv0": inverse},
    )
    params, hessian = polish(lik, result, max_iter, tol)
    return params, hessian, int(result.nit)


def polish(lik, result, max_iter: int, tol: float, *, refresh_hessian: bool = True):
    """Newton steps from the BFGS point ``result.x`` until the Newton decrement is below ``tol``.

    Returns the parameters and the Hessian of -2 log L there (for the covariance matrix). With
    ``refresh_hessian=False`` the Hessian of the BFGS point serves the steps and the result: a
    forward-algorithm Hessian costs two gradients per parameter. Raises ConvergenceError when the
    likelihood is not finite, the Hessian is not positive definite or the decrement stays above ``tol``.
    """
    params = result.x
    value, grad = lik.minus2loglik_and_gradient(params)
    if not np.isfinite(value) or not np.isfinite(grad).all():
        raise ConvergenceError(_checklist("the likelihood is not finite at the optimiser's last point", max_iter))
    hessian = lik.hessian(params)
    moved = False
    for _ in range(20):
        step = _newton_step(hessian, grad)
        if step is None or grad @ step <= tol:
            break
        trial_value, trial_grad = lik.minus2loglik_and_gradient(params - step)
        if not trial_value < value:
            break
        params, value, grad, moved = params - step, trial_value, trial_grad, True
    if moved and refresh_hessian:
        hessian = lik.hessian(params)
    step = _newton_step(hessian, grad)
    if step is None:
        raise ConvergenceError(_checklist(
            "the Hessian of the -2 log-likelihood is not positive definite at the optimiser's last point "
            f"(BFGS: {result.message})", max_iter))
    if grad @ step > tol:
        raise ConvergenceError(_checklist(
            f"the Newton decrement {grad @ step:.3g} is above tol={tol:g} (BFGS: {result.message})", max_iter))
    _warn_weak(hessian)
    return params, hessian


def _inverse_if_positive(hessian: np.ndarray) -> np.ndarray | None:
    """Inverse of a positive definite Hessian (BFGS's first curvature), else None (the identity)."""
    try:
        chol = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    inv_chol = np.linalg.inv(chol)
    return inv_chol.T @ inv_chol


def _newton_step(hessian: np.ndarray, grad: np.ndarray) -> np.ndarray | None:
    try:
        chol = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.solve(chol.T, np.linalg.solve(chol, grad))


def _warn_weak(hessian: np.ndarray) -> None:
    se = np.sqrt(np.diag(2.0 * np.linalg.inv(hessian)))
    if (se > 5.0).any():
        warnings.warn(
            f"{int((se > 5).sum())} parameters have standard errors above 5 on the log scale: some "
            "transitions or covariate effects are barely informed by the data (see statetable)",
            StatisticalWarning, stacklevel=4,
        )


def _checklist(problem: str, max_iter: int) -> str:
    return (
        f"The likelihood maximisation did not converge: {problem}. Things to try:\n"
        "  1. Start from crude_inits(data, ...) instead of the qmatrix values.\n"
        "  2. Rescale time so that intensities are of order 0.01-10 per time unit (years, not days).\n"
        "  3. Drop or merge transitions with few observed moves (see statetable(data, ...)).\n"
        "  4. Drop, merge or rescale covariates with sparse levels or extreme values.\n"
        f"  5. Raise max_iter (now {max_iter})."
    )
