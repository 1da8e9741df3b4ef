"""How often a replica design reproduces each published claim of the seed study (its power).

Each replication draws a replica study (:func:`classdyad.simulate.simulate_study`) with its own
seed, builds the analysis dataset, runs the whole analysis plan
(:func:`classdyad.study.study_plan`) and checks every published claim
(:func:`classdyad.study.published_findings.compare_with_published`). The share of replications
in which a claim agrees estimates the probability that a study of this design, drawn from this
truth, reproduces the claim: its power for a claim of an effect, one minus its false-positive rate
for a claim of no effect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from classdyad.errors import DataError
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.replica import simulate_study
from classdyad.study.dataset import build_analysis_dataset
from classdyad.study.plan import study_plan
from classdyad.study.published_findings import PUBLISHED_CLAIMS, compare_with_published

RATE_COLUMNS = ["claim", "topic", "english", "replications", "reproduced", "rate", "rate_se"]


@dataclass(frozen=True)
class ClaimReproduction:
    """Reproduction of the published claims over replicated replica studies.

    Attributes
    ----------
    rates
        One row per claim: replications, how many reproduced it, the rate and its binomial
        standard error ``sqrt(rate (1 - rate) / replications)``.
    checks
        One row per replication and check (seed, claim, check, estimate, p_fdr, found,
        agrees).
    seeds
        The seeds of the replicas (also the seeds of the plan's Monte Carlo intervals).
    """

    rates: pd.DataFrame
    checks: pd.DataFrame = field(repr=False)
    seeds: tuple[int, ...]

    def to_frame(self) -> pd.DataFrame:
        """The reproduction rate of every claim (a copy of :attr:`rates`)."""
        return self.rates.copy()

    @property
    def all_claims(self) -> float:
        """The share of replications in which every claim agreed."""
        per_seed = self.checks.groupby("seed")["agrees"].all()
        return float(per_seed.mean()) if len(per_seed) else math.nan

    def _repr_html_(self) -> str:
        return (f"<p><b>Published claims reproduced</b> over {len(self.seeds)} replications "
                f"(all claims together: {self.all_claims:.2f})</p>"
                + self.rates.to_html(index=False))


def reproduce_published_findings(
    replications: int = 20, *, design: ReplicaDesign | None = None,
    truth: ReplicaTruth | None = None, first_seed: int = 1, n_draws: int = 2_000,
    progress: Callable[[int, int], None] | None = None,
) -> ClaimReproduction:
    """Replicate the replica study and count how often each published claim is reproduced.

    Parameters
    ----------
    replications
        Number of replica studies (seeds ``first_seed``, ``first_seed + 1``, ...).
    design, truth
        The replica's design and truth (defaults: the seed study's design and the default
        truth).
    first_seed
        Seed of the first replica.
    n_draws
        Monte Carlo draws per indirect-effect interval in the plan.
    progress
        Called with (replications done, replications) after each one.

    Returns
    -------
    ClaimReproduction
    """
    if replications < 1:
        raise DataError(f"replications must be at least 1, e.g. 20; got {replications}")
    seeds = tuple(range(first_seed, first_seed + replications))
    parts = []
    for done, seed in enumerate(seeds, start=1):
        study = simulate_study(design, truth, rng=seed)
        plan = study_plan(build_analysis_dataset(study.tables), rng=seed, n_draws=n_draws)
        checks = compare_with_published(plan).checks
        parts.append(checks.assign(seed=seed))
        if progress is not None:
            progress(done, replications)
    checks = pd.concat(parts, ignore_index=True)
    return ClaimReproduction(rates=reproduction_rates(checks), checks=checks, seeds=seeds)


def reproduction_rates(checks: pd.DataFrame,
                       claims: Sequence = PUBLISHED_CLAIMS) -> pd.DataFrame:
    """Per claim, the share of seeds in which all its checks agreed (see
    :class:`ClaimReproduction`)."""
    per_seed = checks.groupby(["claim", "seed"], sort=False)["agrees"].all()
    rows = []
    for claim in claims:
        if claim.id not in per_seed.index.get_level_values(0):
            continue
        agreed = per_seed.loc[claim.id]
        n, k = len(agreed), int(agreed.sum())
        rate = k / n
        rows.append({"claim": claim.id, "topic": claim.topic, "english": claim.english,
                     "replications": n, "reproduced": k, "rate": rate,
                     "rate_se": math.sqrt(rate * (1.0 - rate) / n)})
    return pd.DataFrame(rows, columns=RATE_COLUMNS)


__all__ = ["ClaimReproduction", "reproduce_published_findings", "reproduction_rates"]
