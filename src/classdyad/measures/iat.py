"""Implicit Association Test (IAT) scoring: D scores from trial-level data.

Trials are read with a column mapping (participant, block, trial, latency in ms, error flag and,
optionally, the latency to the corrected response) and a block mapping that gives every block a
role: ``practice_compatible``, ``practice_incompatible``, ``test_compatible``,
``test_incompatible`` or ``ignore``. Blocks whose role depends on the counterbalanced order can be
keyed on several columns (``columns={"block": ["block_name", "order"]}`` with tuple keys).

**D (Greenwald, Nosek & Banaji, 2003, Table 4)**, per participant:

1. Use the trials of the practice and test blocks of both pairings; remove trials > 10,000 ms.
2. Flag the participant when more than 10 % of those trials are faster than 300 ms: excluded, D is
   ``NaN`` and the reason is given.
3. D2, D5, D6: remove trials faster than 400 ms.
4. Errors. D1, D2 (built-in correction): error trials keep their latency, which includes the time
   to correct the response (the corrected-response latency is used when given). D3-D6: the mean of
   correct latencies of each block is computed, and each error latency is replaced by that mean
   plus twice the SD of the block's correct latencies (D3, D5) or plus 600 ms (D4, D6).
5. The inclusive SD of each pair (practice blocks; test blocks) is the SD of all its trials after
   steps 1-3. For D3-D6, ``inclusive_sd`` says whether it is computed ``"before"`` the error
   latencies are replaced (the default) or ``"after"`` (on the replaced latencies). The default
   follows Greenwald, Nosek & Banaji (2003, Table 4), whose steps compute the inclusive SD
   (their step 6) before error latencies are replaced (step 7). The R packages implicitMeasures
   (``compute_iat``) and IAT (``cleanIAT``) compute it after the replacement; ``"after"``
   reproduces them. D1 and D2 replace nothing, so the option does not change them.
6. For each pair, ``(mean incompatible - mean compatible) / inclusive SD``; D is the mean of the
   pairs the block mapping uses (both pairs in a standard IAT).

Positive D: faster in the compatible pairing. SDs are sample SDs (``n - 1``).

**Single-category IAT (Karpinski & Steinman, 2006)**: only test blocks are scored; latencies
below 350 ms and non-responses (beyond the 1,500 ms response window) are removed; error latencies
are replaced by the block mean of correct latencies plus 400 ms; ``D = (mean incompatible - mean
compatible) / SD of the correct latencies of both blocks``; participants with more than 20 %
errors are excluded.

**Brief IAT (Sriram & Greenwald, 2009; scoring as recommended by Nosek et al., 2014)**: the first
4 trials of every block are dropped; trials > 10,000 ms are removed; participants with more than
10 % of trials faster than 300 ms are excluded; latencies are recoded into [400, 2000] ms; errors
keep their (corrected) latency; D per pair as above, averaged over pairs.

**Split-half reliability**: the trials of every participant and block role are split into odd and
even positions (or first and second halves) in trial order, D is computed in each half with the
same procedure (participants excluded on all trials stay excluded), the halves are correlated
across participants (Pearson), and the Spearman-Brown correction ``2r / (1 + r)`` is applied.

References
----------
Greenwald, A. G., Nosek, B. A., & Banaji, M. R. (2003). Understanding and using the Implicit
Association Test: I. An improved scoring algorithm. *Journal of Personality and Social Psychology*,
85(2), 197-216.

Karpinski, A., & Steinman, R. B. (2006). The Single Category Implicit Association Test as a measure
of implicit social cognition. *Journal of Personality and Social Psychology*, 91(1), 16-32.

Nosek, B. A., Bar-Anan, Y., Sriram, N., Axt, J., & Greenwald, A. G. (2014). Understanding and using
the Brief Implicit Association Test: Recommended scoring procedures. *PLoS ONE*, 9(12), e110938.

Sriram, N., & Greenwald, A. G. (2009). The Brief Implicit Association Test. *Experimental
Psychology*, 56(4), 283-294.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning, check_option
from classdyad.measures.iat_trials import IAT_ROLES, IatRole, read_iat_trials

__all__ = [
    "IAT_ROLES",
    "IatScores",
    "IatSplitHalf",
    "iat_split_half",
    "read_iat_trials",
    "score_brief_iat",
    "score_iat",
    "score_single_category_iat",
]

DVariant = Literal["D1", "D2", "D3", "D4", "D5", "D6"]
_VARIANTS: tuple[DVariant, ...] = ("D1", "D2", "D3", "D4", "D5", "D6")
IatProcedure = Literal["standard", "single_category", "brief"]
_PROCEDURES: tuple[IatProcedure, ...] = ("standard", "single_category", "brief")
SplitMethod = Literal["odd_even", "first_second"]
_SPLITS: tuple[SplitMethod, ...] = ("odd_even", "first_second")
InclusiveSd = Literal["before", "after"]
_INCLUSIVE_SD: tuple[InclusiveSd, ...] = ("before", "after")


@dataclass(frozen=True)
class IatScores:
    """IAT scores, one row per participant.

    Attributes
    ----------
    procedure
        ``"standard"``, ``"single_category"`` or ``"brief"``.
    variant
        The D variant (``"D1"``-``"D6"`` for the standard procedure; the procedure name otherwise).
    scores
        One row per participant: ``participant``, ``d``, ``d_practice``, ``d_test`` (per pair;
        ``NaN`` where not used), ``n_trials`` (trials of scored roles), ``n_removed_slow``,
        ``n_removed_fast``, ``n_removed_warmup``, ``n_used``, ``n_errors``, ``error_rate`` (of
        used trials), ``fast_share`` (share under 300 ms), ``excluded``, ``exclusion_reason``.
    inclusive_sd
        Whether the inclusive SD of D3-D6 was computed ``"before"`` or ``"after"`` the error
        latencies were replaced.
    """

    procedure: IatProcedure
    variant: str
    scores: pd.DataFrame = field(repr=False)
    inclusive_sd: InclusiveSd = "before"

    def to_frame(self) -> pd.DataFrame:
        """The scores table (a copy)."""
        return self.scores.copy()

    def _repr_html_(self) -> str:
        n_excluded = int(self.scores["excluded"].sum())
        return (
            f"<p><b>IAT {self.variant}</b> ({self.procedure}; inclusive SD {self.inclusive_sd} "
            f"error replacement): {len(self.scores)} participants, {n_excluded} excluded</p>"
            + self.scores.to_html(index=False)
        )


@dataclass(frozen=True)
class IatSplitHalf:
    """Split-half reliability of IAT D scores.

    Attributes
    ----------
    correlation
        Pearson correlation of the two halves' D scores across participants.
    reliability
        Spearman-Brown corrected: ``2 r / (1 + r)``.
    n_participants
        Participants with a D score in both halves.
    split, procedure, variant
        How the trials were split and scored.
    half_scores
        One row per participant: ``participant``, ``d_half_1``, ``d_half_2``.
    inclusive_sd
        ``"before"`` or ``"after"`` error replacement (D3-D6).
    """

    correlation: float
    reliability: float
    n_participants: int
    split: SplitMethod
    procedure: IatProcedure
    variant: str
    half_scores: pd.DataFrame = field(repr=False)
    inclusive_sd: InclusiveSd = "before"

    def to_frame(self) -> pd.DataFrame:
        """One row: correlation, Spearman-Brown reliability, participants, split and scoring."""
        return pd.DataFrame(
            [
                {
                    "correlation": self.correlation,
                    "reliability": self.reliability,
                    "n_participants": self.n_participants,
                    "split": self.split,
                    "procedure": self.procedure,
                    "variant": self.variant,
                }
            ]
        )

    def _repr_html_(self) -> str:
        return "<p><b>IAT split-half reliability</b></p>" + self.to_frame().to_html(index=False)


def score_iat(
    trials: pd.DataFrame,
    *,
    blocks: Mapping[Any, IatRole] | None = None,
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    variant: DVariant = "D2",
    inclusive_sd: InclusiveSd = "before",
    source: str | None = None,
) -> IatScores:
    """D scores of a standard IAT (Greenwald, Nosek & Banaji, 2003), variants D1-D6.

    Parameters
    ----------
    trials, blocks, columns, source
        Trial data and mappings, as in :func:`read_iat_trials`.
    variant
        ``"D1"`` built-in error correction; ``"D2"`` as D1, trials < 400 ms removed; ``"D3"``
        errors replaced by block mean + 2 SD; ``"D4"`` by block mean + 600 ms; ``"D5"``, ``"D6"``
        as D3, D4 with trials < 400 ms removed.
    inclusive_sd
        D3-D6: compute each pair's inclusive SD ``"before"`` (default; Greenwald, Nosek &
        Banaji, 2003, Table 4) or ``"after"`` (as the R packages implicitMeasures and IAT) the
        error latencies are replaced. No effect on D1 and D2.

    Returns
    -------
    IatScores

    Notes
    -----
    ``D = mean over pairs of (M_incompatible - M_compatible) / SD_inclusive``; the steps are in the
    module docstring. Validated against an independent R implementation of Table 4 of Greenwald
    et al. (2003) on two public IAT data sets (``tests/measures/golden/iat_d_scores.R``) to 1e-10,
    and on a small data set worked by hand; ``inclusive_sd="after"`` against
    ``implicitMeasures::compute_iat`` (D1-D6) and ``IAT::cleanIAT`` (D4, D6)
    (``tests/measures/golden/iat_inclusive_sd.R``).
    """
    check_option("variant", variant, _VARIANTS)
    check_option("inclusive_sd", inclusive_sd, _INCLUSIVE_SD)
    standard = read_iat_trials(trials, blocks=blocks, columns=columns, source=source)
    _check_pairs(standard)
    settings = {"inclusive_sd": inclusive_sd}
    return IatScores("standard", variant, _score(standard, "standard", variant, settings),
                     inclusive_sd)


def score_single_category_iat(
    trials: pd.DataFrame,
    *,
    blocks: Mapping[Any, IatRole] | None = None,
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    response_window_ms: float = 1500.0,
    source: str | None = None,
) -> IatScores:
    """D scores of a single-category IAT (Karpinski & Steinman, 2006).

    Parameters
    ----------
    trials, blocks, columns, source
        As in :func:`read_iat_trials`; only the test roles are scored (map the first 24 practice
        trials of each stage to the practice roles or to ``ignore``).
    response_window_ms
        Trials slower than this are non-responses and removed (1,500 ms in Karpinski & Steinman).

    Returns
    -------
    IatScores

    Notes
    -----
    Latencies < 350 ms removed; errors replaced by the block mean of correct latencies + 400 ms;
    ``D = (M_incompatible - M_compatible) / SD(correct latencies of both blocks)``; participants
    with more than 20 % errors excluded.
    """
    standard = read_iat_trials(trials, blocks=blocks, columns=columns, source=source)
    _check_pairs(standard[standard["pair"] == "test"])
    settings = {"response_window_ms": float(response_window_ms)}
    return IatScores(
        "single_category",
        "single_category",
        _score(standard, "single_category", "single_category", settings),
    )


def score_brief_iat(
    trials: pd.DataFrame,
    *,
    blocks: Mapping[Any, IatRole] | None = None,
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    warmup_trials: int = 4,
    source: str | None = None,
) -> IatScores:
    """D scores of a brief IAT (Sriram & Greenwald, 2009; Nosek et al., 2014 scoring).

    Parameters
    ----------
    trials, blocks, columns, source
        As in :func:`read_iat_trials`; the block pairs are mapped to the practice and test roles
        (a brief IAT with a single pair of combined blocks maps them to the test roles).
    warmup_trials
        Trials dropped at the start of every block (4 in the recommended scoring).

    Returns
    -------
    IatScores

    Notes
    -----
    First ``warmup_trials`` of each block dropped; trials > 10,000 ms removed; > 10 % of trials
    under 300 ms excludes the participant; latencies recoded into [400, 2000] ms; error latencies
    kept (built-in correction); D per pair, averaged over pairs.
    """
    if int(warmup_trials) != warmup_trials or warmup_trials < 0:
        raise DataError(f"warmup_trials={warmup_trials!r} must be a whole number >= 0, e.g. 4")
    standard = read_iat_trials(trials, blocks=blocks, columns=columns, source=source)
    _check_pairs(standard)
    settings = {"warmup_trials": int(warmup_trials)}
    return IatScores("brief", "brief", _score(standard, "brief", "brief", settings))


def iat_split_half(
    trials: pd.DataFrame,
    *,
    blocks: Mapping[Any, IatRole] | None = None,
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    procedure: IatProcedure = "standard",
    variant: DVariant = "D2",
    split: SplitMethod = "odd_even",
    inclusive_sd: InclusiveSd = "before",
    source: str | None = None,
) -> IatSplitHalf:
    """Split-half reliability of IAT D scores with the Spearman-Brown correction.

    Parameters
    ----------
    trials, blocks, columns, source
        As in :func:`read_iat_trials`.
    procedure
        ``"standard"`` (with ``variant``), ``"single_category"`` or ``"brief"``.
    variant
        The D variant of the standard procedure.
    split
        ``"odd_even"``: odd and even trial positions within each participant and block role;
        ``"first_second"``: the first and the second half of those trials (the first half gets
        ``floor(n / 2)`` trials).
    inclusive_sd
        ``"before"`` or ``"after"`` error replacement, for D3-D6 (see :func:`score_iat`).

    Returns
    -------
    IatSplitHalf

    Notes
    -----
    ``r`` = Pearson correlation of the halves' D across participants that are not excluded on all
    trials and have D in both halves; reliability ``2 r / (1 + r)`` (Spearman, 1910; Brown, 1910).
    """
    check_option("procedure", procedure, _PROCEDURES)
    check_option("variant", variant, _VARIANTS)
    check_option("split", split, _SPLITS)
    check_option("inclusive_sd", inclusive_sd, _INCLUSIVE_SD)
    standard = read_iat_trials(trials, blocks=blocks, columns=columns, source=source)
    if procedure == "single_category":
        standard = standard[standard["pair"] == "test"]
    _check_pairs(standard)
    label = variant if procedure == "standard" else procedure
    settings: dict[str, Any] = {"response_window_ms": 1500.0, "warmup_trials": 4,
                                "inclusive_sd": inclusive_sd}
    if procedure == "brief":
        # warm-up trials go before the split, so that each half keeps its share of real trials
        standard = standard[~_warmup_mask(standard, settings["warmup_trials"])]
        settings["warmup_trials"] = 0
    full = _score(standard, procedure, label, settings)
    excluded = set(full.loc[full["excluded"], "participant"])
    count = standard.groupby(["participant", "role"], sort=False)["position"].transform("size")
    rank = standard.groupby(["participant", "role"], sort=False).cumcount()
    if split == "odd_even":
        first = (rank % 2 == 0).to_numpy()
    else:
        first = (rank < count // 2).to_numpy()
    halves = []
    for mask in (first, ~first):
        scored = _score(standard[mask], procedure, label, settings, exclude=False)
        halves.append(scored.set_index("participant")["d"])
    table = pd.DataFrame({"d_half_1": halves[0], "d_half_2": halves[1]})
    table = table[~table.index.isin(excluded)]
    table.index.name = "participant"
    table = table.reset_index()
    usable = table.dropna()
    r = np.nan
    if len(usable) >= 3 and usable["d_half_1"].std() > 0 and usable["d_half_2"].std() > 0:
        r = float(np.corrcoef(usable["d_half_1"], usable["d_half_2"])[0, 1])
    else:
        warnings.warn(
            "split-half correlation is undefined: fewer than three participants with D in both "
            "halves, or no variance in a half; returned nan",
            UndefinedStatisticWarning,
            stacklevel=2,
        )
    reliability = 2 * r / (1 + r) if np.isfinite(r) and r != -1 else np.nan
    return IatSplitHalf(r, float(reliability), len(usable), split, procedure, label, table,
                        inclusive_sd)


def _score(
    standard: pd.DataFrame,
    procedure: str,
    variant: str,
    settings: Mapping[str, Any] | None,
    *,
    exclude: bool = True,
) -> pd.DataFrame:
    settings = dict(settings or {})
    pairs = sorted(set(standard["pair"]))
    rows = [
        _score_participant(group, procedure, variant, settings, pairs, exclude)
        for _, group in standard.groupby("participant", sort=False)
    ]
    columns = [
        "participant", "d", "d_practice", "d_test", "n_trials", "n_removed_slow",
        "n_removed_fast", "n_removed_warmup", "n_used", "n_errors", "error_rate", "fast_share",
        "excluded", "exclusion_reason",
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"excluded": bool})


def _score_participant(
    group: pd.DataFrame,
    procedure: str,
    variant: str,
    settings: Mapping[str, Any],
    pairs: list[str],
    exclude: bool,
) -> dict[str, Any]:
    participant = group["participant"].iloc[0]
    if procedure == "single_category":
        group = group[group["pair"] == "test"]
        pairs = ["test"]
    n_trials = len(group)
    warm = _warmup_mask(group, settings.get("warmup_trials", 0)) if procedure == "brief" else None
    n_warm = int(warm.sum()) if warm is not None else 0
    if warm is not None:
        group = group[~warm]
    builtin = procedure == "brief" or variant in ("D1", "D2")
    lat = group["latency"].to_numpy(dtype=float)
    err = group["error"].to_numpy(dtype=bool)
    if builtin:
        corrected = group["corrected_latency"].to_numpy(dtype=float)
        lat = np.where(err & np.isfinite(corrected), corrected, lat)
    slow_limit = settings["response_window_ms"] if procedure == "single_category" else 10_000.0
    keep = lat <= slow_limit
    n_slow = int((~keep).sum())
    fast_share = float(np.mean(lat[keep] < 300)) if keep.any() else np.nan
    reason = None
    if procedure != "single_category" and fast_share > 0.10:
        reason = f"more than 10% of trials faster than 300 ms ({fast_share:.1%})"
    fast_floor = {"single_category": 350.0}.get(procedure, 400.0)
    drop_fast = procedure == "single_category" or variant in ("D2", "D5", "D6")
    fast = keep & (lat < fast_floor) if drop_fast else np.zeros_like(keep)
    keep &= ~fast
    used = group[keep]
    lat, err = lat[keep], err[keep]
    if procedure == "brief":
        lat = np.clip(lat, 400.0, 2000.0)
    n_used, n_errors = len(used), int(err.sum())
    error_rate = n_errors / n_used if n_used else np.nan
    if procedure == "single_category" and n_used and error_rate > 0.20:
        reason = f"more than 20% errors ({error_rate:.1%})"
    result: dict[str, Any] = {
        "participant": participant,
        "n_trials": n_trials,
        "n_removed_slow": n_slow,
        "n_removed_fast": int(fast.sum()),
        "n_removed_warmup": n_warm,
        "n_used": n_used,
        "n_errors": n_errors,
        "error_rate": error_rate,
        "fast_share": fast_share,
    }
    after = settings.get("inclusive_sd", "before") == "after"
    d_pairs, problem = _pair_scores(used, lat, err, procedure, variant, pairs, after)
    d = float(np.mean(list(d_pairs.values()))) if problem is None else np.nan
    if reason is None and problem is not None:
        reason = problem
    excluded = reason is not None and (exclude or problem is not None)
    result.update(
        d=np.nan if excluded else d,
        d_practice=d_pairs.get("practice", np.nan),
        d_test=d_pairs.get("test", np.nan),
        excluded=excluded,
        exclusion_reason=reason if excluded else None,
    )
    return result


def _pair_scores(
    used: pd.DataFrame,
    lat: np.ndarray,
    err: np.ndarray,
    procedure: str,
    variant: str,
    pairs: list[str],
    sd_after_replacement: bool = False,
) -> tuple[dict[str, float], str | None]:
    """D of each pair; the second value says why D cannot be computed (or None)."""
    roles = used["role"].to_numpy()
    penalty = {"D3": "2sd", "D5": "2sd", "D4": 600.0, "D6": 600.0, "single_category": 400.0}
    out: dict[str, float] = {}
    for pair in pairs:
        means = {}
        replaced = []
        in_pair = np.char.startswith(roles.astype(str), pair + "_")
        for compatible in (True, False):
            role = f"{pair}_{'compatible' if compatible else 'incompatible'}"
            mask = roles == role
            if not mask.any():
                return out, f"no usable trials in the {role.replace('_', ' ')} block"
            values = lat[mask]
            if procedure == "single_category" or variant in ("D3", "D4", "D5", "D6"):
                correct = values[~err[mask]]
                if correct.size == 0 or (penalty[variant] == "2sd" and correct.size < 2):
                    return out, f"too few correct trials in the {role.replace('_', ' ')} block"
                step = 2 * correct.std(ddof=1) if penalty[variant] == "2sd" else penalty[variant]
                values = np.where(err[mask], correct.mean() + step, values)
            means[compatible] = values.mean()
            replaced.append(values)
        if procedure == "single_category":
            spread = lat[in_pair & ~err]
        elif sd_after_replacement:
            spread = np.concatenate(replaced)
        else:
            spread = lat[in_pair]
        sd = spread.std(ddof=1) if spread.size >= 2 else np.nan
        if not np.isfinite(sd) or sd == 0:
            return out, f"no latency variance in the {pair} blocks"
        out[pair] = float((means[False] - means[True]) / sd)
    return out, None


def _warmup_mask(standard: pd.DataFrame, warmup: int) -> np.ndarray:
    if warmup <= 0:
        return np.zeros(len(standard), dtype=bool)
    rank = standard.groupby(["participant", "block"], sort=False).cumcount()
    return (rank < warmup).to_numpy()


def _check_pairs(standard: pd.DataFrame) -> None:
    roles = set(standard["role"])
    for pair in ("practice", "test"):
        has = {f"{pair}_compatible" in roles, f"{pair}_incompatible" in roles}
        if has == {True, False}:
            raise OptionError(
                f"the {pair} pair needs both a compatible and an incompatible block; map one "
                f"block to each of {pair}_compatible and {pair}_incompatible"
            )
