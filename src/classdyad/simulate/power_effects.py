"""The effects a power analysis simulates: the replica's truth, a YAML file, a pilot study, a null.

* :func:`truth_from_yaml` changes fields of a :class:`~classdyad.simulate.ReplicaTruth` from a YAML
  mapping that mirrors it (unknown names are errors that list the known ones);
* :func:`truth_from_pilot` estimates the rate and outcome models from a pilot study's analysis
  dataset with the mixed models of :mod:`classdyad.mixed`;
* :func:`null_truth` sets the effects a hypothesis tests to zero and keeps everything else;
* :func:`describe_truth` states the implied model in a few lines, printed before a run.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any

import numpy as np
import pandas as pd
import yaml

from classdyad.errors import DataError
from classdyad.simulate.design import (
    ORIGINS,
    OutcomeModel,
    RateModel,
    ReplicaDesign,
    ReplicaTruth,
)
from classdyad.simulate.measurement import IAT_BLOCK_TRIALS, d2_scores, draw_iat_arrays

__all__ = [
    "describe_truth",
    "null_at_origin",
    "null_truth",
    "scored_iat_null_mean",
    "truth_from_mapping",
    "truth_from_pilot",
    "truth_from_yaml",
    "zero_under_null",
]

#: group terms of the rate models (background gaps in interactions)
GROUP_RATE_TERMS = ("low_ses", "turkish_moroccan", "other_non_western")
#: group terms of the outcome models (direct background gaps in relationship quality)
GROUP_OUTCOME_TERMS = ("non_western", "turkish_moroccan", "other_non_western", "low_ses")
#: implicit-attitude terms of the outcome models
IAT_OUTCOME_TERMS = ("iat_ethnicity", "iat_ses", "iat_ethnicity:non_western", "iat_ses:low_ses")


def _update(value: Any, change: Any, where: str) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not isinstance(change, dict):
            raise DataError(f"{where}: expected a mapping of field names, got {change!r}")
        names = {f.name for f in dataclasses.fields(value)}
        updates = {}
        for key, item in change.items():
            if isinstance(value, RateModel) and key == "rate_ratio":
                if not isinstance(item, dict):
                    raise DataError(f"{where}.rate_ratio: give term: ratio pairs")
                logs = {term: math.log(float(ratio)) for term, ratio in item.items()}
                key, item = "log_rate_ratio", {**updates.get("log_rate_ratio", {}), **logs}
            if key not in names:
                raise DataError(f"{where}: unknown field {key!r}; known fields are "
                                f"{', '.join(sorted(names | _extra_names(value)))}")
            updates[key] = _update(getattr(value, key), item, f"{where}.{key}")
        return dataclasses.replace(value, **updates)
    if isinstance(value, dict):
        if not isinstance(change, dict):
            raise DataError(f"{where}: expected a mapping, got {change!r}")
        out = dict(value)
        for key, item in change.items():
            if key not in value:
                raise DataError(f"{where}: unknown key {key!r}; known keys are "
                                f"{', '.join(map(str, value))}")
            out[key] = _update(value[key], item, f"{where}.{key}")
        return out
    if isinstance(value, bool) or not isinstance(value, int | float | tuple):
        return change
    if isinstance(value, tuple):
        return tuple(change)
    try:
        return float(change)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {change!r} is not a number") from None


def _extra_names(value: Any) -> set[str]:
    return {"rate_ratio"} if isinstance(value, RateModel) else set()


def truth_from_mapping(mapping: dict[str, Any], base: ReplicaTruth | None = None
                       ) -> ReplicaTruth:
    """``base`` (default: the replica's truth) with the fields named in ``mapping`` changed.

    The mapping mirrors :class:`~classdyad.simulate.ReplicaTruth`, e.g.
    ``{"rates": {"negative": {"rate_ratio": {"low_ses": 1.2}}},
    "outcomes": {"teacher_closeness": {"per_negative_per_hour": -0.1}}}``; a rate model accepts
    ``rate_ratio`` (converted to ``log_rate_ratio``).
    """
    return _update(base or ReplicaTruth(), mapping, "effects")


def truth_from_yaml(path: str | os.PathLike[str], base: ReplicaTruth | None = None
                    ) -> ReplicaTruth:
    """:func:`truth_from_mapping` from a YAML file."""
    try:
        with open(path, encoding="utf-8") as handle:
            mapping = yaml.safe_load(handle) or {}
    except OSError as error:
        raise DataError(f"cannot read the effects file {path}: {error}; give a YAML file that "
                        "mirrors ReplicaTruth (see classdyad power --help)") from error
    if not isinstance(mapping, dict):
        raise DataError(f"{path}: the effects file must hold a mapping, e.g. "
                        "'rates: {negative: {rate_ratio: {low_ses: 1.2}}}'")
    return truth_from_mapping(mapping, base)


def null_truth(truth: ReplicaTruth, hypothesis: str) -> ReplicaTruth:
    """``truth`` with the effects that ``hypothesis`` tests set to zero.

    * H1 (relationship gaps) and H3 (mediation): no background gap in interaction rates and no
      direct background effect on relationship quality (the interactions still predict
      relationship quality, so the indirect effects' b paths stay);
    * H2 (interaction gaps): no background gap in interaction rates;
    * H4 (negativity bias): positive and negative interactions weigh equally on the common
      (standardized) scale in every drawn study: each outcome's slope on negative interactions
      is ``-b_positive * sd(positive rate) / sd(negative rate)`` with the SDs of that study's
      observed rates (:attr:`~classdyad.simulate.design.OutcomeModel.equal_standardized_weights`),
      the standardization the plan's test conditions on; and, since the plan's H4 model adjusts
      for gender only, no direct background effect on relationship quality (background
      predicts the rates, so a direct effect would bias both slopes differently and the test's
      estimand would not be zero);
    * H5 (implicit attitudes): teachers' mean IAT D score is zero (the one-sample t tests of
      the plan test that mean) on the scale the plan tests, that of the scored D
      (:func:`scored_iat_null_mean`), the IAT scores predict nothing (as in the replica's default
      truth) and the background gaps in negative interactions are kept.

    H3's b paths (interactions -> relationship quality) are not part of its null: they stay,
    and so does their power.
    """
    def rates(zero: tuple[str, ...]) -> dict[str, RateModel]:
        return {v: dataclasses.replace(m, log_rate_ratio={
            t: (0.0 if t in zero else b) for t, b in m.log_rate_ratio.items()})
            for v, m in truth.rates.items()}

    def outcomes(zero: tuple[str, ...], equal_weights: bool = False
                 ) -> dict[str, OutcomeModel]:
        out = {}
        for name, model in truth.outcomes.items():
            changes: dict[str, Any] = {"coefficients": {
                t: (0.0 if t in zero else b) for t, b in model.coefficients.items()}}
            if equal_weights:
                changes["equal_standardized_weights"] = True
            out[name] = dataclasses.replace(model, **changes)
        return out

    if hypothesis in ("H1", "H3"):
        return dataclasses.replace(truth, rates=rates(GROUP_RATE_TERMS),
                                   outcomes=outcomes(GROUP_OUTCOME_TERMS))
    if hypothesis == "H2":
        return dataclasses.replace(truth, rates=rates(GROUP_RATE_TERMS))
    if hypothesis == "H4":
        return dataclasses.replace(truth, outcomes=outcomes(GROUP_OUTCOME_TERMS,
                                                            equal_weights=True))
    if hypothesis == "H5":
        centre = scored_iat_null_mean(truth)
        return dataclasses.replace(truth, outcomes=outcomes(IAT_OUTCOME_TERMS),
                                   iat_mean=dict.fromkeys(truth.iat_mean, centre))
    raise DataError(f"unknown hypothesis {hypothesis!r}; choose from H1, H2, H3, H4, H5")


#: teachers drawn to find the true mean whose scored D scores average zero
_IAT_NULL_TEACHERS = 20_000


def scored_iat_null_mean(truth: ReplicaTruth) -> float:
    """The teachers' true mean IAT effect whose scored D2 scores average zero.

    The scored D is not an odd function of the true effect: the D algorithm drops trials and
    sessions with many fast responses (Greenwald, Nosek & Banaji 2003), and a negative effect
    speeds up the (smaller) incompatible blocks, so with true effects spread symmetrically
    around zero the scored D scores average about +0.02 (with the replica's latencies and
    ``iat_sd`` 0.4). The plan's one-sample t test is of the scored scores' mean, so the null
    centres the true effects where that mean is zero: a secant step between two draws of
    20,000 teachers per kind with the same fixed seed (common random numbers). Other seeds
    put the scored mean at that centre within 0.004 of zero, a tenth of the test's standard
    error with 73 teachers. Cached per set of IAT parameters.

    References
    ----------
    Greenwald, A. G., Nosek, B. A. & Banaji, M. R. (2003). Understanding and using the Implicit
    Association Test: I. An improved scoring algorithm. *Journal of Personality and Social
    Psychology*, 85(2), 197-216.
    """
    return _scored_iat_null_mean(truth.iat_sd, truth.iat_latency_ms, truth.iat_latency_sd_ms,
                                 truth.iat_error_rate)


@functools.lru_cache(maxsize=16)
def _scored_iat_null_mean(sd: float, latency: float, latency_sd: float,
                          error_rate: float) -> float:
    # every kind of IAT is drawn alike, so the replica's two kinds serve for any truth's
    base = dataclasses.replace(ReplicaTruth(), iat_sd=sd, iat_latency_ms=latency,
                               iat_latency_sd_ms=latency_sd, iat_error_rate=error_rate)
    teachers = np.arange(1, _IAT_NULL_TEACHERS + 1)
    block = np.repeat(np.arange(1, 8), IAT_BLOCK_TRIALS)

    def scored_mean(centre: float) -> float:
        truth = dataclasses.replace(base, iat_mean=dict.fromkeys(base.iat_mean, centre))
        drawn = draw_iat_arrays(ReplicaDesign(iat_missing_rate=0.0), truth, teachers,
                                np.random.default_rng(20_261_206))
        return float(np.nanmean(d2_scores(block, drawn.latency_ms, drawn.compatible_first)))

    # the scored mean is linear in the centre to about 1e-4 over the few hundredths involved
    # (0.022, 0.0003 and -0.014 at 0, -0.03 and -0.05 for the replica), so one secant step
    # from two points finds its zero
    low, high = 0.0, -0.03
    f_low, f_high = scored_mean(low), scored_mean(high)
    if f_high == f_low:
        return low
    return float(low - f_low * (high - low) / (f_high - f_low))


def zero_under_null(hypothesis: str, effect: str) -> bool:
    """Whether :func:`null_truth` makes the plan's estimate ``effect`` of ``hypothesis`` zero.

    All of H1, H2 and H5; H3 but its b paths (``b:<mediator>``); of H4 only the difference
    ``negativity_difference`` (the slopes themselves stay).
    """
    if hypothesis == "H3":
        return not effect.startswith("b")
    if hypothesis == "H4":
        return effect == "negativity_difference"
    return True


def null_at_origin(hypothesis: str, effect: str, outcome: str, truth: ReplicaTruth) -> bool:
    """Whether ``null_truth`` puts a product or absolute-difference test at its origin.

    The plan tests H3's indirect effects (``a * b`` and their sums), H4's ``|b_negative| -
    |b_positive|`` and H5's index of moderated mediation (``a3 * b``). Their null hypotheses are
    unions of lines through the origin, and where the null makes every factor zero - an indirect
    effect through an interaction rate that does not affect ``outcome``, or a negativity bias
    between two zero slopes, as for the replica's student-reported outcomes - these tests reject
    far less often than alpha: about ``alpha^2`` for ``a * b`` (MacKinnon et al. 2002), about
    0.1 % for the Wald test of ``|b_negative| - |b_positive|`` (its delta-method SE assumes
    slopes away from zero). Such a test is conservative there, not miscalibrated: a null
    calibration checks that it is never liberal, and that the other tests reject at alpha.

    References
    ----------
    MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G. & Sheets, V. (2002). A
    comparison of methods to test mediation and other intervening variable effects.
    *Psychological Methods*, 7(1), 83-104.
    """
    # the nulls keep the outcome models' slopes on the interaction rates, but for H4, whose
    # null sets b_negative to -b_positive times a positive SD ratio
    model = truth.outcomes.get("teacher_closeness" if hypothesis == "H5" else outcome)
    slopes: dict[str, float] = {}
    if model is not None:
        slopes = {"positive_rate": model.per_positive_per_hour,
                  "negative_rate": model.per_negative_per_hour}
        if hypothesis == "H4":
            slopes["negative_rate"] = -model.per_positive_per_hour
    if hypothesis == "H3" and effect.startswith("indirect:"):
        return slopes.get(effect.split(":", 1)[1], 1.0) == 0.0
    if (hypothesis == "H3" and effect == "indirect_total") or (
            hypothesis == "H4" and effect == "negativity_difference"):
        return bool(slopes) and all(v == 0.0 for v in slopes.values())
    if hypothesis == "H5" and effect == "index_moderated_mediation":
        return slopes.get("negative_rate", 1.0) == 0.0
    return False


def describe_truth(truth: ReplicaTruth) -> str:
    """The implied generative model in plain lines (rates per hour, ratios, slopes, SDs)."""
    lines = ["Interactions per hour with a Dutch, not low-SES girl (rate ratios of groups; "
             "class and student SDs on the log scale):"]
    for valence, model in truth.rates.items():
        ratios = ", ".join(f"{term} {model.rate_ratio(term):.3g}"
                           for term in model.log_rate_ratio)
        lines.append(f"  {valence}: {model.rate_per_hour:.3g}/h; {ratios}; class SD "
                     f"{model.class_sd:.3g}, student SD {model.student_sd:.3g}")
    lines.append("Relationship quality (1-5): intercept + slopes per interaction per hour + "
                 "direct effects; class, student and residual SDs:")
    for name, model in truth.outcomes.items():
        direct = ", ".join(f"{term} {beta:+.3g}" for term, beta in model.coefficients.items()
                           if beta != 0.0) or "none"
        negative = ("equal weight per SD of each drawn study's rates"
                    if model.equal_standardized_weights
                    else f"{model.per_negative_per_hour:+.3g}")
        lines.append(f"  {name}: {model.intercept:.3g} {model.per_positive_per_hour:+.3g} "
                     f"x positive {negative} x negative; direct: "
                     f"{direct}; SDs {model.class_sd:.3g} / {model.student_sd:.3g} / "
                     f"{model.residual_sd:.3g}")
    return "\n".join(lines)


def _components(fit: Any) -> dict[str, float]:
    table = fit.variance_components
    return {str(row.group): float(row.std_dev) for row in table.itertuples()}


def truth_from_pilot(dataset: pd.DataFrame, base: ReplicaTruth | None = None) -> ReplicaTruth:
    """Effects estimated from a pilot study's analysis dataset.

    The background composition (origin shares, low-SES share per origin, share of boys) is
    counted per student; each valence's rate model is a Poisson mixed model
    ``count ~ low_ses + turkish_moroccan + other_non_western + boy + offset(log hours)
    + (1 | classroom) + (1 | student)`` (:func:`classdyad.mixed.glmm`), each relationship outcome
    a linear mixed model ``outcome ~ positive_rate + negative_rate + non_western + low_ses + boy
    + (1 | classroom) + (1 | student)`` (:func:`classdyad.mixed.lmm`). Everything else (IATs,
    questionnaire noise, group- and class-directed events) is kept from ``base``.

    Parameters
    ----------
    dataset
        The pilot's analysis dataset (:func:`classdyad.study.build_analysis_dataset`).
    base
        Truth to start from (default: the replica's).

    Returns
    -------
    ReplicaTruth
    """
    from classdyad.mixed import glmm, lmm
    from classdyad.study.gaps import fit_quietly

    truth = base or ReplicaTruth()
    needed = ["student", "classroom", "migration_background", "low_ses", "boy",
              "hours_present", "positive", "negative", "neutral"]
    missing = [c for c in needed if c not in dataset.columns]
    if missing or dataset.empty:
        raise DataError(f"the pilot's analysis dataset lacks {missing or 'rows'}; build it "
                        "with classdyad.study.build_analysis_dataset from a study with "
                        "students, lessons and coded interactions")
    data = dataset[dataset["migration_background"].notna()
                   & dataset["low_ses"].notna()].copy()
    origin = data["migration_background"].astype(str)
    data["non_western"] = ~origin.isin(["dutch", "western"])
    data["turkish_moroccan"] = origin.isin(["turkish", "moroccan"])
    data["other_non_western"] = data["non_western"] & ~data["turkish_moroccan"]
    for column in ("low_ses", "boy", "non_western", "turkish_moroccan", "other_non_western"):
        data[column] = data[column].astype(float)
    students = data.drop_duplicates("student")
    counts = origin.loc[students.index].value_counts()
    shares = np.array([max(float(counts.get(o, 0)), 0.01) for o in ORIGINS])
    shares = shares / shares.sum()
    low_ses = students.groupby(origin.loc[students.index])["low_ses"].mean()
    rates = {}
    observed = data[data["hours_present"] > 0].assign(
        log_hours=lambda frame: np.log(frame["hours_present"]))
    for valence, model in truth.rates.items():
        formula = (f"{valence} ~ low_ses + turkish_moroccan + other_non_western + boy + "
                   "(1 | classroom) + (1 | student)")
        fit, _notes = fit_quietly(glmm, formula, observed, family="poisson",
                                  offset="log_hours")
        beta = fit.fixed_effects.set_index("term")["estimate"]
        sd = _components(fit)
        rates[valence] = dataclasses.replace(
            model, rate_per_hour=math.exp(float(beta["(Intercept)"])),
            log_rate_ratio={t: float(beta.get(t, 0.0)) for t in model.log_rate_ratio},
            class_sd=sd.get("classroom", model.class_sd),
            student_sd=sd.get("student", model.student_sd))
    outcomes = {}
    for name, model in truth.outcomes.items():
        if name not in data.columns or data[name].notna().sum() < 10:
            outcomes[name] = model
            continue
        rows = data.dropna(subset=[name, "positive_rate", "negative_rate"])
        formula = (f"{name} ~ positive_rate + negative_rate + non_western + low_ses + boy + "
                   "(1 | classroom) + (1 | student)")
        fit, _notes = fit_quietly(lmm, formula, rows)
        beta = fit.fixed_effects.set_index("term")["estimate"]
        sd = _components(fit)
        coefficients = dict(model.coefficients)
        coefficients.update({t: float(beta[t]) for t in ("non_western", "low_ses", "boy")})
        outcomes[name] = dataclasses.replace(
            model, intercept=float(beta["(Intercept)"]),
            per_positive_per_hour=float(beta["positive_rate"]),
            per_negative_per_hour=float(beta["negative_rate"]), coefficients=coefficients,
            class_sd=sd.get("classroom", model.class_sd),
            student_sd=sd.get("student", model.student_sd),
            residual_sd=sd.get("Residual", model.residual_sd))
    return dataclasses.replace(
        truth, origin_shares=dict(zip(ORIGINS, shares.tolist(), strict=True)),
        low_ses_share={o: float(low_ses.get(o, truth.low_ses_share[o])) for o in ORIGINS},
        boy_share=float(students["boy"].mean()), rates=rates, outcomes=outcomes)
