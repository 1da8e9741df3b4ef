"""The result of a power analysis: power per hypothesis, estimate and design point.

Power is the share of fitted replicates whose test rejects at ``alpha``; its Monte Carlo standard
error is ``sqrt(p (1 - p) / n)`` and its exact (Clopper-Pearson) interval comes from the beta
distribution. Failed fits are counted beside the power (``n_failed``), never folded into it;
non-converged and singular fits are counted too (they are kept in the power, as lme4 keeps them).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from classdyad.simulate.design import ReplicaTruth

__all__ = ["PowerResult", "clopper_pearson", "key_estimates", "null_calibration",
           "smallest_designs", "summarize_replicates"]

#: columns of a design point
DESIGN_COLUMNS = ["design", "schools", "classes", "students_per_class", "students", "waves",
                  "lessons_per_wave"]
#: columns identifying an estimate
ESTIMATE_KEY = ["hypothesis", "model", "outcome", "effect", "contrast", "level"]
#: columns of :attr:`PowerResult.table`
TABLE_COLUMNS = ["hypothesis", "estimate", "effect", "outcome", "contrast", "level", "model",
                 *DESIGN_COLUMNS, "power", "mc_se", "ci_low", "ci_high", "n_replicates",
                 "n_fitted", "n_failed", "n_nonconverged", "n_singular", "mean_estimate",
                 "alpha", "adjustment"]


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95
                    ) -> tuple[float, float]:
    """Exact binomial interval (Clopper & Pearson 1934) for ``successes`` out of ``trials``."""
    if trials == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if successes == 0 else float(
        scipy.stats.beta.ppf(tail, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(
        scipy.stats.beta.ppf(1.0 - tail, successes + 1, trials - successes))
    return low, high


def replicate_frames(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per replicate x model (status, flags) and per replicate x tested estimate, as tables."""
    models = [{"design": r["design"], "replicate": r["replicate"], **m}
              for r in records for m in r["models"]]
    estimates = [{"design": r["design"], "replicate": r["replicate"], **e}
                 for r in records for e in r["estimates"]]
    model_frame = pd.DataFrame(models, columns=["design", "replicate", "model", "hypothesis",
                                                "status", "error", "singular", "nonconverged",
                                                "seconds"])
    estimate_frame = pd.DataFrame(estimates, columns=["design", "replicate", *ESTIMATE_KEY,
                                                      "estimate", "std_error", "p_value",
                                                      "p_fdr"])
    return model_frame, estimate_frame


def summarize_replicates(records: list[dict[str, Any]], designs: pd.DataFrame, *,
                         alpha: float, adjustment: str) -> pd.DataFrame:
    """Power per estimate and design point from replicate records (see the module docstring).

    An estimate's replicates are those run at its design point; a replicate in which the
    estimate's model failed (or the study could not be drawn) counts in ``n_failed``.
    """
    model_frame, estimate_frame = replicate_frames(records)
    p_column = "p_fdr" if adjustment == "fdr" else "p_value"
    run = pd.Series([r["design"] for r in records]).value_counts()
    out = []
    if estimate_frame.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    estimate_frame = estimate_frame.assign(level=estimate_frame["level"].fillna(""),
                                           contrast=estimate_frame["contrast"].fillna(""))
    keys = estimate_frame[["design", *ESTIMATE_KEY]].drop_duplicates()
    grouped = estimate_frame.groupby(["design", *ESTIMATE_KEY], sort=False)
    model_flags = model_frame.groupby(["design", "model"]).agg(
        singular=("singular", "sum"), nonconverged=("nonconverged", "sum"))
    for key in keys.itertuples(index=False):
        key = tuple(key)
        rows = grouped.get_group(key)
        design = key[0]
        n_run = int(run.get(design, 0))
        p = rows[p_column].to_numpy(dtype=float)
        fitted = int(np.isfinite(p).sum())
        rejected = int((p[np.isfinite(p)] < alpha).sum())
        power = rejected / fitted if fitted else math.nan
        low, high = clopper_pearson(rejected, fitted)
        flags = model_flags.loc[(design, key[2])] if (design, key[2]) in model_flags.index \
            else {"singular": 0, "nonconverged": 0}
        record = dict(zip(["design", *ESTIMATE_KEY], key, strict=True))
        record.update(
            power=power,
            mc_se=math.sqrt(power * (1 - power) / fitted) if fitted else math.nan,
            ci_low=low, ci_high=high, n_replicates=n_run, n_fitted=fitted,
            n_failed=n_run - fitted, n_nonconverged=int(flags["nonconverged"]),
            n_singular=int(flags["singular"]),
            mean_estimate=float(np.nanmean(rows["estimate"].to_numpy(dtype=float)))
            if fitted else math.nan, alpha=alpha, adjustment=adjustment)
        out.append(record)
    table = pd.DataFrame(out).merge(designs[DESIGN_COLUMNS], on="design", how="left")
    table["estimate"] = [f"{m}:{e}" + (f":{lv}" if lv else "") for m, e, lv in
                         zip(table["model"], table["effect"], table["level"], strict=True)]
    return table[TABLE_COLUMNS].sort_values(["hypothesis", "model", "effect", "level",
                                             "design"], kind="stable", ignore_index=True)


def smallest_designs(table: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per estimate, the smallest design point whose power reaches ``target``.

    Smallest: fewest classes, then fewest students, then fewest lessons (classes are what
    observation costs most). Estimates that reach the target nowhere are listed with
    ``reached = False`` and no design.
    """
    rows = []
    order = ["classes", "students", "lessons_per_wave", "waves"]
    for key, part in table.groupby(ESTIMATE_KEY, sort=False, dropna=False):
        reached = part[part["power"] >= target].sort_values(order)
        record = dict(zip(ESTIMATE_KEY, key, strict=True))
        if reached.empty:
            record.update(reached=False, best_power=float(part["power"].max()))
        else:
            best = reached.iloc[0]
            record.update(reached=True, best_power=float(best["power"]),
                          **{c: _plain(best[c]) for c in DESIGN_COLUMNS})
        rows.append(record)
    return pd.DataFrame(rows)


def key_estimates(table: pd.DataFrame) -> pd.DataFrame:
    """The rows a reader looks at first (as :meth:`StudyPlanResult.key_table`).

    Group gaps (the contrast's own group term), the total within-class indirect effects, the
    negativity-bias differences and the implicit-attitude tests.
    """
    gap = table["hypothesis"].isin(["H1", "H2"]) & ~(
        (table["contrast"] == "turkish_moroccan_vs_dutch") & (table["effect"] == "low_ses"))
    indirect = (table["hypothesis"] == "H3") & (table["effect"] == "indirect_total") & (
        table["level"] == "within")
    bias = table["effect"] == "negativity_difference"
    moderation = table["hypothesis"] == "H5"
    return table[gap | indirect | bias | moderation].reset_index(drop=True)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class PowerResult:
    """Power of the study plan's tests over a grid of designs (:func:`classdyad.simulate.power`).

    Attributes
    ----------
    table
        One row per hypothesis x estimate x design point (columns
        :data:`TABLE_COLUMNS`; ``estimate`` names the plan's estimate as
        ``model:effect[:level]``): power, Monte Carlo SE, exact 95 % interval, replicates run,
        fitted, failed, non-converged and singular.
    designs
        The design points (``design, schools, classes, students_per_class, students, waves,
        lessons_per_wave``).
    smallest
        Per estimate, the smallest design reaching ``target`` (:func:`smallest_designs`).
    replicates
        Per replicate x tested estimate: estimate, standard error, p values.
    fits
        Per replicate x model: status, error, singular and non-converged flags, seconds.
    settings
        The run's arguments (seed, alpha, hypotheses, effects, ...).
    implied_model
        The generative model's effects in words (:func:`describe_truth`).
    timing
        Seconds spent starting the workers and running the replicates.
    """

    table: pd.DataFrame
    designs: pd.DataFrame
    smallest: pd.DataFrame
    replicates: pd.DataFrame = field(repr=False)
    fits: pd.DataFrame = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict)
    implied_model: str = field(default="", repr=False)
    timing: dict[str, float] = field(default_factory=dict, repr=False)
    """``start_seconds`` (starting the workers and readying them), ``run_seconds`` (running
    the replicates), ``replicates_run`` (in this call; a resumed run skips those already done)
    and the sums over those replicates of their wall-clock ``replicate_seconds`` and
    ``replicate_cpu_seconds`` (CPU time of the thread that ran each: beside the wall clock it
    tells a busy machine from slow work)."""

    def to_frame(self) -> pd.DataFrame:
        """The power table (a copy)."""
        return self.table.copy()

    def records(self) -> list[dict[str, Any]]:
        """The power table as JSON-ready records (NaN as None)."""
        return [{k: _plain(v) for k, v in row.items()}
                for row in self.table.astype(object).to_dict("records")]

    def to_json(self, path: str | None = None) -> str:
        """The records of :meth:`records` as a JSON list (written to ``path`` when given)."""
        text = json.dumps(self.records(), indent=1, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    def _repr_html_(self) -> str:
        settings = html.escape(", ".join(f"{k}={v}" for k, v in self.settings.items()
                                         if k in ("hypotheses", "alpha", "seed", "null")))
        return (f"<p><b>Power analysis</b> ({settings}): {len(self.designs)} design point(s), "
                f"{len(self.table)} power estimates</p>" + self.table.to_html(index=False))


def null_calibration(result: PowerResult, *, alpha: float = 0.05,
                     truth: ReplicaTruth | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rejection rates of a ``power(..., null=True)`` run, per hypothesis and per estimate.

    Estimates the null makes zero (:func:`~classdyad.simulate.power_effects.zero_under_null`),
    in two groups: ``at origin``, the product and absolute-difference tests whose factors the
    null all makes zero (:func:`~classdyad.simulate.power_effects.null_at_origin`: conservative
    by construction, checked only for not being liberal), and the others (expected at alpha).
    Pooled rate: the mean over replicates of the share of the group's estimates that reject, its
    SE from the spread of those shares; per estimate, SE
    ``sqrt(alpha (1 - alpha) / n)``.

    Parameters
    ----------
    result
        A power analysis run with ``null=True`` (one design point).
    alpha
        The level tested.
    truth
        The truth the run's nulls were derived from (default: the replica's).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Per hypothesis and group: ``hypothesis, group ("tests" or "at origin"), replicates,
        estimates, rate, mc_se, z, lowest, highest, beyond_3se, failed, calibrated`` (tests:
        ``|z| < 3``; at origin: ``z < 3``); and the estimates of the run's table that the null
        makes zero, with ``origin`` and ``z``.
    """
    from classdyad.simulate.power_effects import null_at_origin, zero_under_null

    truth = truth or ReplicaTruth()
    rows = result.replicates
    rows = rows[[zero_under_null(h, e) for h, e in
                 zip(rows["hypothesis"], rows["effect"], strict=True)]]
    rows = rows.assign(reject=rows["p_value"] < alpha, origin=[
        null_at_origin(h, e, o, truth) for h, e, o in
        zip(rows["hypothesis"], rows["effect"], rows["outcome"], strict=True)])
    table = result.table[[zero_under_null(h, e) for h, e in
                          zip(result.table["hypothesis"], result.table["effect"], strict=True)]]
    table = table.assign(
        origin=[null_at_origin(h, e, o, truth) for h, e, o in
                zip(table["hypothesis"], table["effect"], table["outcome"], strict=True)],
        z=(table["power"] - alpha) / np.sqrt(alpha * (1 - alpha) / table["n_fitted"]))
    pooled = []
    for (hypothesis, origin), part in rows.groupby(["hypothesis", "origin"]):
        shares = part.groupby("replicate")["reject"].mean()
        se = float(shares.std(ddof=1) / math.sqrt(len(shares)))
        estimates = table[(table["hypothesis"] == hypothesis) & (table["origin"] == origin)]
        z = (float(shares.mean()) - alpha) / se if se > 0 else math.nan
        pooled.append({"hypothesis": hypothesis, "group": "at origin" if origin else "tests",
                       "replicates": len(shares), "estimates": len(estimates),
                       "rate": float(shares.mean()), "mc_se": se, "z": z,
                       "lowest": float(estimates["power"].min()),
                       "highest": float(estimates["power"].max()),
                       "beyond_3se": int((estimates["z"].abs() > 3).sum()),
                       "failed": int(estimates["n_failed"].max()),
                       "calibrated": (float(shares.mean()) <= alpha or bool(z < 3)) if origin
                       else bool(abs(z) < 3)})
    return pd.DataFrame(pooled), table
