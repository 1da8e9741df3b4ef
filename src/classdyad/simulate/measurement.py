"""Drawing the replica's measurements: relationship questionnaires and teachers' IATs.

Relationship quality per student x wave follows the outcome models of
:class:`~classdyad.simulate.design.ReplicaTruth` (linear in the dyad's observed interaction rates,
computed by :func:`classdyad.study.dataset.interaction_rates`, the same function the analysis
dataset uses). Items of the shipped instruments scatter around their subscale's value and are
rounded stochastically (``floor(x + U)``, ``U ~ Uniform(0, 1)``, whose expectation is ``x``) to
the response scale; reverse-keyed items are stored reversed, as a respondent would answer them.
The student-reported negative-expectations subscale (SPARTS) is drawn as
``1.8 + 0.6 (conflict - 1.9) + N(0, 0.3^2)``; it is not part of the truth's outcome models.

Teachers' IATs follow the standard seven-block layout (20, 20, 20, 40, 20, 20, 40 trials), with
log-normal latencies that are slower in the incompatible pairing by the teacher's true D times
the latency SD, and errors whose latency includes the built-in correction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.measures.instruments import Instrument, load_instrument
from classdyad.model import StudyTables
from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.observation import Observation
from classdyad.simulate.population import Population
from classdyad.study.dataset import interaction_rates

INSTRUMENTS = {"teacher": "strs_short_form", "student": "sparts"}
SUBSCALE_OUTCOME = {
    ("teacher", "closeness"): "teacher_closeness",
    ("teacher", "conflict"): "teacher_conflict",
    ("student", "closeness"): "student_closeness",
    ("student", "conflict"): "student_conflict",
}
IAT_BLOCK_TRIALS = (20, 20, 20, 40, 20, 20, 40)


def draw_outcomes(truth: ReplicaTruth, people: Population, observed: Observation,
                  partial: StudyTables, iat_true: pd.DataFrame,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Latent relationship quality per student x wave (one column per outcome model)."""
    return draw_outcomes_from_rates(truth, people, observed, interaction_rates(partial),
                                    iat_true, rng)


def draw_outcomes_from_rates(truth: ReplicaTruth, people: Population, observed: Observation,
                             rates: pd.DataFrame, iat_true: pd.DataFrame,
                             rng: np.random.Generator) -> pd.DataFrame:
    """:func:`draw_outcomes` from the dyads' interaction rates (``interaction_rates`` rows)."""
    teacher_iat = iat_true.pivot(index="teacher_id", columns="kind", values="d_true")
    rows = {name: rates[name].to_numpy()
            for name in ("student_id", "classroom_id", "positive_rate", "negative_rate")}
    for kind in ("ethnicity", "ses"):
        rows[f"iat_{kind}"] = teacher_iat[kind].reindex(rates["teacher_id"]).to_numpy()
    students = (people.student_origin, people.student_low_ses, people.student_boy)
    values = draw_outcome_values(truth, rows, students, len(people.classrooms),
                                 (observed.class_effects, observed.student_effects), rng)
    out = rates[["student_id", "wave_id", "classroom_id", "teacher_id"]].copy()
    for name, value in values.items():
        out[name] = value
    return out


def draw_outcome_values(truth: ReplicaTruth, rows: Mapping[str, np.ndarray],
                        students: tuple[np.ndarray, np.ndarray, np.ndarray], n_classes: int,
                        effects: tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]],
                        rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The draws of :func:`draw_outcomes_from_rates`, on arrays.

    Parameters
    ----------
    truth
        True parameters.
    rows
        Per student x wave: ``student_id``, ``classroom_id``, ``positive_rate``,
        ``negative_rate`` (``NaN`` where the dyad was never observed) and the rating teacher's
        true IAT scores ``iat_ethnicity`` and ``iat_ses``.
    students
        Every student's origin group, low-SES and boy indicators (student ``i`` at ``i - 1``).
    n_classes
        Number of classes.
    effects
        The interaction rates' class and student effects per valence.
    rng
        The generator, drawn in the order of :func:`draw_outcomes_from_rates`.

    Returns
    -------
    dict
        Outcome name -> one value per row, then ``student_negative_expectations``.
    """
    sid, cid = rows["student_id"], rows["classroom_id"]
    origin_of, low_ses_of, boy_of = students
    origin = origin_of[sid - 1]
    turkish_moroccan = np.isin(origin, ("turkish", "moroccan"))
    non_western = ~np.isin(origin, ("dutch", "western"))
    x = {
        "non_western": non_western,
        "turkish_moroccan": turkish_moroccan,
        "other_non_western": non_western & ~turkish_moroccan,
        "low_ses": low_ses_of[sid - 1],
        "boy": boy_of[sid - 1],
        "iat_ethnicity": rows["iat_ethnicity"],
        "iat_ses": rows["iat_ses"],
    }
    x["iat_ethnicity:non_western"] = x["iat_ethnicity"] * x["non_western"]
    x["iat_ses:low_ses"] = x["iat_ses"] * x["low_ses"]
    class_effects, student_effects = effects
    expected = {}
    for valence in ("positive", "negative"):
        model = truth.rates[valence]
        eta = (np.log(model.rate_per_hour) + class_effects[valence][cid]
               + student_effects[valence][sid])
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * x[term]
        # students never observed with the rater: their expected rate stands in
        rate = rows[f"{valence}_rate"]
        expected[valence] = np.where(np.isnan(rate), np.exp(eta), rate)
    out: dict[str, np.ndarray] = {}
    n_students = len(origin_of)
    direct = {term: np.nan_to_num(np.asarray(x[term], dtype=float))
              for term in {t for model in truth.outcomes.values() for t in model.coefficients}}
    # SD(positive rate) / SD(negative rate) of this draw, for models with equal weights
    ratio = (_rate_sd_ratio(rows["positive_rate"], rows["negative_rate"])
             if any(m.equal_standardized_weights for m in truth.outcomes.values()) else None)
    for name, model in truth.outcomes.items():
        class_re = rng.normal(0.0, model.class_sd, size=n_classes + 1)
        student_re = rng.normal(0.0, model.student_sd, size=n_students + 1)
        per_negative = (-model.per_positive_per_hour * ratio
                        if ratio is not None and model.equal_standardized_weights
                        else model.per_negative_per_hour)
        value = (model.intercept + model.per_positive_per_hour * expected["positive"]
                 + per_negative * expected["negative"]
                 + class_re[cid] + student_re[sid]
                 + rng.normal(0.0, model.residual_sd, size=len(sid)))
        for term, beta in model.coefficients.items():
            value = value + beta * direct[term]
        out[name] = value
    out["student_negative_expectations"] = (1.8 + 0.6 * (out["student_conflict"] - 1.9)
                                            + rng.normal(0.0, 0.3, size=len(sid)))
    return out


def _rate_sd_ratio(positive_rate: np.ndarray, negative_rate: np.ndarray) -> float:
    """SD(positive rate) / SD(negative rate) over the rows where both are observed: a slope of
    ``-b * ratio`` on negative interactions weighs as much as ``b`` on positive ones after
    standardizing both rates."""
    positive = np.asarray(positive_rate, dtype=float)
    negative = np.asarray(negative_rate, dtype=float)
    both = ~(np.isnan(positive) | np.isnan(negative))
    return float(positive[both].std(ddof=1) / negative[both].std(ddof=1))


@functools.cache
def _shipped_instrument(code: str) -> Instrument:
    """A shipped instrument, parsed once per process (the simulators draw thousands of studies)."""
    return load_instrument(code)


def _draw_items(design: ReplicaDesign, truth: ReplicaTruth, latent: Mapping[str, np.ndarray],
                rows: int, informant: str, instrument: Instrument, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which of the ``rows`` student x wave rows answered, and their item answers as stored."""
    answered = rng.random(rows) >= design.questionnaire_missing_rate
    n = int(answered.sum())
    low, high = instrument.scale.min, instrument.scale.max
    values = np.empty((n, len(instrument.items)))
    answering: dict[str, np.ndarray] = {}
    for position, item in enumerate(instrument.items):
        column = SUBSCALE_OUTCOME.get((informant, item.subscale),
                                      f"{informant}_{item.subscale}")
        if column not in answering:
            answering[column] = latent[column][answered]
        value = answering[column] + rng.normal(0.0, truth.item_sd, size=n)
        value = np.clip(np.floor(value + rng.random(n)), low, high)
        if item.reverse:
            value = low + high - value
        value[rng.random(n) < design.item_missing_rate] = np.nan
        values[:, position] = value
    return answered, values


def _latent_arrays(latent: pd.DataFrame | Mapping[str, np.ndarray]
                   ) -> tuple[Mapping[str, np.ndarray], int]:
    """The latent outcomes as one array per column, and their number of rows."""
    if isinstance(latent, pd.DataFrame):
        return {name: latent[name].to_numpy() for name in latent.columns}, len(latent)
    return latent, len(next(iter(latent.values())))


def draw_questionnaires(design: ReplicaDesign, truth: ReplicaTruth, latent: pd.DataFrame,
                        rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame,
                                                           pd.DataFrame]:
    """Instruments, responses and item answers for every student x wave (some missing)."""
    instruments, responses, items = [], [], []
    next_response = 1
    arrays, rows = _latent_arrays(latent)
    for number, (informant, code) in enumerate(INSTRUMENTS.items(), start=1):
        instrument = _shipped_instrument(code)
        instruments.append({"id": number, "code": instrument.id,
                            "version": instrument.version, "informant": informant,
                            "definition": None})
        mask, values = _draw_items(design, truth, arrays, rows, informant, instrument, rng)
        answered = latent[mask]
        n = len(answered)
        ids = np.arange(next_response, next_response + n)
        next_response += n
        responses.append(pd.DataFrame({
            "id": ids, "instrument_id": number, "wave_id": answered["wave_id"].to_numpy(),
            "teacher_id": answered["teacher_id"].to_numpy(),
            "student_id": answered["student_id"].to_numpy()}))
        for position, item in enumerate(instrument.items):
            items.append(pd.DataFrame({"response_id": ids, "item": item.id,
                                       "value": values[:, position]}))
    return (pd.DataFrame(instruments), pd.concat(responses, ignore_index=True),
            pd.concat(items, ignore_index=True))


def draw_scale_scores(design: ReplicaDesign, truth: ReplicaTruth,
                      latent: pd.DataFrame | Mapping[str, np.ndarray],
                      rng: np.random.Generator) -> dict[tuple[str, str], np.ndarray]:
    """The questionnaires of :func:`draw_questionnaires`, scored without storing the answers.

    The same random numbers in the same order, so the answers are those that
    :func:`draw_questionnaires` draws from the same generator state; they are scored as
    :func:`classdyad.measures.score_questionnaire` scores them (reverse keys undone, the mean
    of a subscale's answered items when at least the instrument's ``min_answered`` share of them
    is answered). ``tests/simulate/test_fast_dataset.py`` checks that the scores equal those of
    :func:`classdyad.study.score_study_questionnaires`. ``latent`` is a frame or one array per
    column (the fast path's rows).

    Returns
    -------
    dict
        ``(informant, subscale) ->`` one score per row of ``latent`` (``NaN`` where the
        questionnaire or too many of its items are missing).
    """
    out: dict[tuple[str, str], np.ndarray] = {}
    arrays, rows = _latent_arrays(latent)
    for informant, code in INSTRUMENTS.items():
        instrument = _shipped_instrument(code)
        answered, values = _draw_items(design, truth, arrays, rows, informant, instrument, rng)
        low, high = instrument.scale.min, instrument.scale.max
        reverse = np.array([item.reverse for item in instrument.items])
        values[:, reverse] = low + high - values[:, reverse]
        subscales = np.array([item.subscale for item in instrument.items])
        for subscale in instrument.subscales:
            block = values[:, subscales == subscale]
            present = ~np.isnan(block)
            count = present.sum(axis=1)
            needed = math.ceil(instrument.min_answered * block.shape[1] - 1e-9)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(present, block, 0.0).sum(axis=1) / count
            score = np.full(rows, np.nan)
            score[answered] = np.where(count >= needed, mean, np.nan)
            out[(informant, subscale)] = score
    return out


@dataclass(frozen=True)
class DrawnIat:
    """The IATs of :func:`draw_iat` as arrays: one entry per teacher x kind, then per session.

    ``latency_ms`` and ``error`` hold one row per session (taken IAT) and one column per trial
    of the seven-block layout, latencies rounded to 0.1 ms as stored.
    """

    teacher_id: np.ndarray
    kind: np.ndarray
    d_true: np.ndarray
    taken: np.ndarray
    compatible_first: np.ndarray
    latency_ms: np.ndarray
    error: np.ndarray


def draw_iat_arrays(design: ReplicaDesign, truth: ReplicaTruth, teacher_ids: np.ndarray,
                    rng: np.random.Generator) -> DrawnIat:
    """The draws of :func:`draw_iat`, on arrays, in the same order."""
    kinds = list(truth.iat_mean)
    teacher_id = np.repeat(teacher_ids, len(kinds))
    kind = np.tile(kinds, len(teacher_ids))
    d_true = rng.normal([truth.iat_mean[k] for k in kind], truth.iat_sd)
    taken = rng.random(len(teacher_id)) >= design.iat_missing_rate
    n_sessions = int(taken.sum())
    compatible_first = rng.random(n_sessions) < 0.5
    blocks = np.repeat(np.arange(1, 8), IAT_BLOCK_TRIALS)
    n_trials = len(blocks)
    block = np.tile(blocks, n_sessions)
    first = np.repeat(compatible_first, n_trials)
    d = np.repeat(d_true[taken], n_trials)
    combined = np.isin(block, (3, 4, 6, 7))
    incompatible = combined & (np.isin(block, (6, 7)) == first)
    sd = truth.iat_latency_sd_ms
    mean = truth.iat_latency_ms + np.where(incompatible, d * sd, 0.0)
    mean = np.maximum(mean, 350.0)
    sigma2 = np.log1p((sd / mean) ** 2)
    latency = np.exp(rng.normal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2)))
    error = rng.random(len(latency)) < truth.iat_error_rate
    latency = latency + error * rng.gamma(4.0, 100.0, size=len(latency))
    return DrawnIat(teacher_id, kind, d_true, taken, compatible_first,
                    np.round(latency, 1).reshape(n_sessions, n_trials),
                    error.reshape(n_sessions, n_trials))


def draw_iat(design: ReplicaDesign, truth: ReplicaTruth, teachers: pd.DataFrame,
             rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """IAT sessions and trials of every teacher (some missing), and the true D scores."""
    drawn = draw_iat_arrays(design, truth, teachers["id"].to_numpy(), rng)
    true = pd.DataFrame({"teacher_id": drawn.teacher_id, "kind": drawn.kind,
                         "d_true": drawn.d_true})
    sessions = true[drawn.taken].reset_index(drop=True)
    sessions.insert(0, "id", np.arange(1, len(sessions) + 1))
    sessions["wave_id"] = 1
    sessions["compatible_first"] = drawn.compatible_first
    blocks = np.repeat(np.arange(1, 8), IAT_BLOCK_TRIALS)
    trial = np.concatenate([np.arange(1, n + 1) for n in IAT_BLOCK_TRIALS])
    n_trials = len(blocks)
    trials = pd.DataFrame({"session_id": np.repeat(sessions["id"].to_numpy(), n_trials),
                           "block": np.tile(blocks, len(sessions)),
                           "trial": np.tile(trial, len(sessions)),
                           "latency_ms": drawn.latency_ms.ravel(),
                           "error": drawn.error.ravel(),
                           "corrected_latency_ms": np.nan})
    return sessions[["id", "teacher_id", "wave_id", "kind", "compatible_first"]], trials, true


#: (block, compatible_first) -> (pair, compatible) of the seven-block layout's scored blocks
_SCORED_BLOCKS = {(3, True): ("practice", True), (4, True): ("test", True),
                  (6, True): ("practice", False), (7, True): ("test", False),
                  (3, False): ("practice", False), (4, False): ("test", False),
                  (6, False): ("practice", True), (7, False): ("test", True)}


def score_drawn_iat(sessions: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """D2 scores of the IATs drawn by :func:`draw_iat`, per session, without the general reader.

    The steps of :func:`classdyad.measures.score_iat` (variant D2, Greenwald, Nosek & Banaji
    2003) for the simulator's complete seven-block sessions, one session at a time on the same
    trials in the same order: trials above 10,000 ms removed; a session with more than 10 % of
    its trials faster than 300 ms excluded (``NaN``); trials faster than 400 ms removed; error
    latencies kept (built-in correction); per pair (practice, test) the difference of the
    incompatible and compatible block means over the pair's inclusive SD; D the mean of the two
    pairs. ``tests/simulate/test_fast_dataset.py`` checks that the scores equal those of
    :func:`classdyad.study.score_study_iat`.

    Returns
    -------
    pandas.DataFrame
        ``session_id, teacher_id, kind, d_score``.
    """
    n_trials = sum(IAT_BLOCK_TRIALS)
    ids = sessions["id"].to_numpy()
    session = trials["session_id"].to_numpy()
    if len(session) != n_trials * len(ids) or (len(ids) and not np.array_equal(
            session[::n_trials], ids)):
        raise ValueError("score_drawn_iat takes the complete sessions of draw_iat, in order")
    block = trials["block"].to_numpy()[:n_trials]
    latency = trials["latency_ms"].to_numpy(dtype=float).reshape(len(ids), n_trials)
    scores = d2_scores(block, latency, sessions["compatible_first"].to_numpy(dtype=bool))
    return pd.DataFrame({"session_id": ids, "teacher_id": sessions["teacher_id"].to_numpy(),
                         "kind": sessions["kind"].to_numpy(), "d_score": scores})


def d2_scores(block: np.ndarray, latency_ms: np.ndarray,
              compatible_first: np.ndarray) -> np.ndarray:
    """The D2 scores of :func:`score_drawn_iat`, on arrays.

    Parameters
    ----------
    block
        The block of each trial of one session's layout (1-7).
    latency_ms
        One row per session, one column per trial.
    compatible_first
        Per session, whether the compatible pairing came first.

    Returns
    -------
    numpy.ndarray
        One D score per session (``NaN`` where excluded or undefined).
    """
    scored = np.isin(block, (3, 4, 6, 7))
    lat = latency_ms[:, scored]
    # the exclusions, for all sessions at once: trials above 10 s are dropped, and a session
    # with more than 10 % of the rest faster than 300 ms is out
    within = lat <= 10_000.0
    n_within = within.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        too_fast = (within & (lat < 300)).sum(axis=1) / n_within
    included = (n_within > 0) & ~(too_fast > 0.10)
    keep = within & ~(lat < 400.0)
    # per order of the pairings: which scored trials are in which pair and pairing
    roles = {first: [_SCORED_BLOCKS[(int(b), first)] for b in block[scored]]
             for first in (True, False)}
    subsets = {first: _pair_subsets(role) for first, role in roles.items()}
    scores = np.full(len(latency_ms), np.nan)
    first_of = compatible_first.tolist()
    for position in np.flatnonzero(included).tolist():
        scores[position] = _session_d(lat[position], keep[position],
                                      subsets[first_of[position]])
    return scores


def _pair_subsets(roles: list[tuple[str, bool]]
                  ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per pair (practice, test): masks of its compatible trials, its incompatible trials and
    all its trials, over the scored trials whose (pair, compatible) ``roles`` are given."""
    pair = np.array([r[0] for r in roles])
    compatible = np.array([r[1] for r in roles])
    return [((pair == name) & compatible, (pair == name) & ~compatible, pair == name)
            for name in ("practice", "test")]


def _session_d(lat: np.ndarray, keep: np.ndarray,
               subsets: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """One session's D from its scored latencies ``lat`` (those in ``keep`` count): the mean
    over the two pairs of the incompatible minus compatible mean over the pair's inclusive SD
    (``NaN`` when a pair lacks a block or has no spread).

    Means and the SD are numpy's ``mean()`` and ``std(ddof=1)`` written out in their own
    steps (the same sums in the same order), without their per-call overhead.
    """
    pairs = []
    for compatible, incompatible, in_pair in subsets:
        first = lat[keep & compatible]
        second = lat[keep & incompatible]
        spread = lat[keep & in_pair]
        if first.size == 0 or second.size == 0 or spread.size < 2:
            return float("nan")
        deviation = spread - np.add.reduce(spread) / spread.size
        sd = math.sqrt(np.add.reduce(deviation * deviation) / (spread.size - 1))
        if not math.isfinite(sd) or sd == 0:
            return float("nan")
        difference = np.add.reduce(second) / second.size - np.add.reduce(first) / first.size
        pairs.append(float(difference / sd))
    return float(np.mean(pairs))
