"""OrdinalLevelModel's analytic score against numerical derivatives and plain statsmodels OrderedModel."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.numdiff import approx_fprime

from progression.recovery import OrdinalLevelModel
from progression.recovery.trajectories import _ordered_model_class


@pytest.fixture(scope="module")
def levels():
    """Proportional odds with a time slope of 0.1 and three domains, 5 levels, 400 citizens."""
    rng = np.random.default_rng(3)
    n = 6000
    d = pd.DataFrame({"person_id": rng.integers(0, 400, n), "years": rng.uniform(0, 10, n),
                      "item": rng.choice(["a", "b", "c"], n)})
    latent = 0.1 * d["years"] + d["item"].map({"a": 0.0, "b": 1.0, "c": -1.0}) + rng.logistic(size=n)
    d["score"] = np.digitize(latent, [-1, 0, 1, 2]).astype(float)
    d["_level"] = pd.Categorical(d["score"], ordered=True)
    return d


def test_analytic_score_equals_numerical_derivative(levels):
    model = _ordered_model_class().from_formula("_level ~ years + C(item)", levels, distr="logit")
    plain = OrderedModel.from_formula("_level ~ years + C(item)", levels, distr="logit")
    params = plain.start_params + np.linspace(-0.2, 0.3, plain.start_params.size)
    np.testing.assert_allclose(model.score_obs(params), approx_fprime(params, plain.loglikeobs, centered=True),
                               atol=1e-6)


def test_fit_and_clustered_errors_equal_plain_ordered_model(levels):
    groups = pd.factorize(levels["person_id"])[0]
    kw = dict(method="bfgs", disp=False, maxiter=2000, cov_type="cluster", cov_kwds={"groups": groups})
    ours = _ordered_model_class().from_formula("_level ~ years + C(item)", levels, distr="logit").fit(**kw)
    plain = OrderedModel.from_formula("_level ~ years + C(item)", levels, distr="logit").fit(**kw)
    np.testing.assert_allclose(ours.params, plain.params, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.bse, plain.bse, rtol=1e-4)


def test_ordinal_level_model_recovers_the_time_slope(levels):
    model = OrdinalLevelModel().fit(levels, covariates=["item"])
    slope = model.summary().set_index("term").loc["years"]
    assert slope["conf_low"] < 0.1 < slope["conf_high"]


def test_score_is_the_sum_of_the_observation_scores(levels):
    model = _ordered_model_class().from_formula("_level ~ years + C(item)", levels, distr="logit")
    params = model.start_params + 0.05
    np.testing.assert_allclose(model.score(params), model.score_obs(params).sum(0), rtol=1e-10, atol=1e-8)
