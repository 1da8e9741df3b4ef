"""lmm() against lme4::lmer / lmerTest (R 4.2.2, lme4 1.1-31, lmerTest 3.1-3).

Reference values are in ``tests/mixed/golden/lmm_*.json``, written by the ``lmm_*.R`` scripts
beside them. Tolerances (relative): fixed effects, standard errors, t statistics, variance
components, log-likelihood, AIC, BIC and fitted values 1e-4; Satterthwaite df 1e-6 (1e-5 for the
classroom random-slope model, whose reference optimum lies about 5e-7 from the exact one in
theta, along a flat direction of the REML criterion, which moves the df of ``ses`` by 5e-6) and
p-values 1e-3 (a p-value of 1e-18 moves 1e-5 when t moves 1e-8).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import SingularFitWarning
from classdyad.mixed import lmm

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parents[1] / "data"
RTOL = 1e-4  # estimates, standard errors, variance components, logLik
RTOL_DF = 1e-6  # Satterthwaite degrees of freedom
RTOL_DF_LOOSER = {"classroom-slope": 1e-5}  # see the module docstring


def _golden(name: str) -> dict:
    golden = json.loads((GOLDEN / f"lmm_{name}.json").read_text())
    # jsonlite writes vectors of length one as scalars (auto_unbox)
    for model in golden.get("models", {}).values():
        for table in ("fixed", "varcorr"):
            model[table] = {k: v if isinstance(v, list) else [v] for k, v in model[table].items()}
    return golden


REPLICA = ("teacher_closeness ~ negative_rate + positive_rate + low_ses + non_western + "
           "factor(wave) + (1 | school/classroom) + (1 | student)")
REPLICA_REDUCED = ("teacher_closeness ~ low_ses + non_western + factor(wave) + "
                   "(1 | school/classroom) + (1 | student)")
REPLICA_COLUMNS = ["teacher_closeness", "negative_rate", "positive_rate", "low_ses",
                   "non_western", "wave", "school", "classroom", "student"]


def _data(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"{name}.csv")
    for column in ("Subject", "plate", "sample"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    if name == "replica_student_wave":  # the R script keeps the rows complete for the full model
        frame = frame.dropna(subset=REPLICA_COLUMNS)
    return frame


def _r_name(term: str) -> str:
    """formulaic's ``factor(wave)[T.2]`` is R's ``factor(wave)2``."""
    return re.sub(r"\[T\.(.*?)\]", r"\1", term)


# (golden file, model key, data file, formula, reml, R group name -> classdyad group name)
CASES = [
    ("sleepstudy", "correlated", "sleepstudy", "Reaction ~ Days + (Days | Subject)", True, {}),
    ("sleepstudy", "uncorrelated", "sleepstudy", "Reaction ~ Days + (Days || Subject)", True,
     {"Subject.1": "Subject"}),
    ("sleepstudy", "intercept", "sleepstudy", "Reaction ~ Days + (1 | Subject)", True, {}),
    ("sleepstudy", "correlated_ml", "sleepstudy", "Reaction ~ Days + (Days | Subject)", False, {}),
    ("classroom", "nested", "classroom",
     "mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid)", True,
     {"classid:schoolid": "schoolid:classid"}),
    ("classroom", "nested_ml", "classroom",
     "mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid)", False,
     {"classid:schoolid": "schoolid:classid"}),
    ("classroom", "slope", "classroom",
     "mathgain ~ mathkind + sex + minority + ses + (1 + ses | schoolid) + (1 | classid)", True,
     {}),
    ("classroom", "reduced", "classroom", "mathgain ~ mathkind + ses + (1 | schoolid/classid)",
     True, {"classid:schoolid": "schoolid:classid"}),
    ("penicillin", "crossed", "penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", True, {}),
    ("penicillin", "crossed_ml", "penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", False,
     {}),
    # the replica's school variance is estimated at zero (a singular fit, in lme4 as here)
    ("replica", "full", "replica_student_wave", REPLICA, True,
     {"classroom:school": "school:classroom"}),
    ("replica", "full_ml", "replica_student_wave", REPLICA, False,
     {"classroom:school": "school:classroom"}),
    ("replica", "reduced", "replica_student_wave", REPLICA_REDUCED, True,
     {"classroom:school": "school:classroom"}),
]

_FITS: dict[tuple[str, bool], object] = {}


def _fit(data_name: str, formula: str, reml: bool):
    key = (formula, reml)
    if key not in _FITS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", SingularFitWarning)
            fit = lmm(formula, _data(data_name), reml=reml)
        singular_warned = any(issubclass(w.category, SingularFitWarning) for w in record)
        assert singular_warned == fit.singular
        assert all(issubclass(w.category, SingularFitWarning) for w in record)
        _FITS[key] = fit
    return _FITS[key]


@pytest.fixture(params=CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def case(request):
    golden_name, key, data_name, formula, reml, groups = request.param
    reference = _golden(golden_name)["models"][key]
    return _fit(data_name, formula, reml), reference, groups, f"{golden_name}-{key}"


def test_fixed_effects_match_lmertest(case):
    fit, ref, _, name = case
    fixed = fit.fixed_effects
    assert [_r_name(t) for t in fixed["term"]] == ref["fixed"]["term"]
    np.testing.assert_allclose(fixed["estimate"], ref["fixed"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(fixed["std_error"], ref["fixed"]["std_error"], rtol=RTOL)
    np.testing.assert_allclose(fixed["statistic"], ref["fixed"]["statistic"], rtol=RTOL)
    np.testing.assert_allclose(fixed["df"], ref["fixed"]["df"],
                               rtol=RTOL_DF_LOOSER.get(name, RTOL_DF))
    np.testing.assert_allclose(fixed["p_value"], ref["fixed"]["p_value"], rtol=1e-3, atol=1e-300)


def test_variance_components_match_lme4(case):
    fit, ref, groups, _ = case
    vc = ref["varcorr"]
    ours = fit.variance_components.set_index(["group", "term"])
    # a variance estimated at zero is zero to rounding in both (lme4 ML: 5e-16)
    atol_var, atol_sd = 1e-10 * fit.sigma**2, 1e-6 * fit.sigma
    correlations = fit.correlations.set_index(["group", "term1", "term2"])
    for group, var1, var2, vcov, sdcor in zip(
        vc["group"], vc["var1"], vc["var2"], vc["vcov"], vc["sdcor"], strict=True
    ):
        group = groups.get(group, group)
        if group == "Residual":
            np.testing.assert_allclose(ours.loc[("Residual", ""), "variance"], vcov, rtol=RTOL)
            np.testing.assert_allclose(fit.sigma, sdcor, rtol=RTOL)
        elif var2 == "":
            np.testing.assert_allclose(ours.loc[(group, var1), "variance"], vcov, rtol=RTOL,
                                       atol=atol_var)
            np.testing.assert_allclose(ours.loc[(group, var1), "std_dev"], sdcor, rtol=RTOL,
                                       atol=atol_sd)
        else:
            row = correlations.loc[(group, var1, var2)]
            np.testing.assert_allclose(row["covariance"], vcov, rtol=RTOL)
            np.testing.assert_allclose(row["correlation"], sdcor, rtol=RTOL)


def test_likelihood_and_counts_match_lme4(case):
    fit, ref, groups, _ = case
    np.testing.assert_allclose(fit.loglik, ref["loglik"], rtol=RTOL)
    np.testing.assert_allclose(fit.aic, ref["aic"], rtol=RTOL)
    np.testing.assert_allclose(fit.bic, ref["bic"], rtol=RTOL)
    assert fit.n_parameters == ref["n_parameters"]
    assert fit.n_obs == ref["nobs"]
    assert fit.singular == ref["singular"]
    assert fit.converged
    expected_groups = {groups.get(g, g): k for g, k in ref["ngrps"].items()}
    assert dict(fit.n_groups) == expected_groups
    np.testing.assert_allclose(fit.predict()[:10], ref["fitted_head"], rtol=RTOL)


def test_loglik_is_much_closer_than_the_tolerance(case):
    fit, ref, _, _ = case
    # both optimisers were run to tight tolerances: the optimum's log-likelihood agrees to 1e-6
    assert abs(fit.loglik - ref["loglik"]) < 1e-6


@pytest.mark.parametrize("key", ["correlated", "intercept"])
def test_conditional_modes_match_ranef_condvar(key):
    formula = {"correlated": "Reaction ~ Days + (Days | Subject)",
               "intercept": "Reaction ~ Days + (1 | Subject)"}[key]
    fit = _fit("sleepstudy", formula, True)
    ref = pd.DataFrame(_golden("sleepstudy")["models"][key]["ranef"])
    ours = fit.random_effects().set_index(["group", "term", "level"])
    merged = ours.loc[list(zip(ref["group"], ref["term"], ref["level"], strict=True))]
    scale = np.max(np.abs(ref["estimate"]))
    np.testing.assert_allclose(merged["estimate"], ref["estimate"], rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(merged["std_error"], ref["std_error"], rtol=RTOL)


def test_predict_newdata_with_new_level_matches_lme4():
    ref = _golden("sleepstudy")["predict_newdata"]
    fit = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)", True)
    newdata = pd.DataFrame({"Days": ref["Days"], "Subject": ref["Subject"]})
    np.testing.assert_allclose(
        fit.predict(newdata, allow_new_levels=True), ref["with_random"], rtol=RTOL
    )
    np.testing.assert_allclose(
        fit.predict(newdata, include_random=False), ref["fixed_only"], rtol=RTOL
    )


def _check_anova(table: pd.DataFrame, ref: dict) -> None:
    for column in ("n_parameters", "aic", "bic", "loglik", "deviance"):
        np.testing.assert_allclose(table[column], ref[column], rtol=RTOL)
    np.testing.assert_allclose(table["statistic"].iloc[1], ref["statistic"][1], rtol=1e-3)
    assert table["df"].iloc[1] == ref["df"][1]
    np.testing.assert_allclose(table["p_value"].iloc[1], ref["p_value"][1], rtol=1e-3)


def test_compare_refits_reml_fits_by_ml_as_anova():
    ref = _golden("sleepstudy")["anova_intercept_vs_correlated"]
    small = _fit("sleepstudy", "Reaction ~ Days + (1 | Subject)", True)
    large = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)", True)
    _check_anova(large.compare(small), ref)


def test_compare_ml_fits_with_different_fixed_effects():
    ref = _golden("sleepstudy")["anova_null_vs_days_ml"]
    null = lmm("Reaction ~ 1 + (Days | Subject)", _data("sleepstudy"), reml=False)
    full = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)", False)
    _check_anova(null.compare(full), ref)


def test_compare_nested_classroom_models():
    ref = _golden("classroom")["anova_reduced_vs_nested"]
    reduced = _fit("classroom", "mathgain ~ mathkind + ses + (1 | schoolid/classid)", True)
    nested = _fit(
        "classroom", "mathgain ~ mathkind + sex + minority + ses + (1 | schoolid/classid)", True
    )
    _check_anova(reduced.compare(nested), ref)


def test_compare_replica_models():
    ref = _golden("replica")["anova_reduced_vs_full"]
    reduced = _fit("replica_student_wave", REPLICA_REDUCED, True)
    full = _fit("replica_student_wave", REPLICA, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)  # the ML refits are singular too
        table = reduced.compare(full)
    _check_anova(table, ref)


@pytest.mark.parametrize("key", ["full", "full_ml", "reduced"])
def test_satterthwaite_df_at_lme4s_optimum_matches_lmertest(key):
    # the df differ from lmerTest's by up to 1e-6 mostly because lme4's optimum lies ~2e-7 from
    # the exact one (its gradient there is ~1e-4); at lme4's own theta and sigma the same
    # derivative scheme as lmerTest's gives its df to a few 1e-8
    from classdyad.mixed._satterthwaite import satterthwaite_state

    ref = _golden("replica")["models"][key]
    formula = REPLICA_REDUCED if key == "reduced" else REPLICA
    fit = _fit("replica_student_wave", formula, key != "full_ml")
    theta = np.asarray(ref["theta"])[::-1]  # R orders the terms student, classroom, school
    state = satterthwaite_state(fit.prepared.pls, theta, ref["sigma"], reml=key != "full_ml")
    df = [state.df(row) for row in np.eye(fit.beta.size)]
    np.testing.assert_allclose(df, ref["fixed"]["df"], rtol=2e-7)
