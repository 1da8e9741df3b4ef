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
    sid = rates["student_id"].to_numpy()
    cid = rates["classroom_id"].to_numpy()
    origin = people.student_origin[sid - 1]
    turkish_moroccan = np.isin(origin, ("turkish", "moroccan"))
    non_western = ~np.isin(origin, ("dutch", "western"))
    x = {
        "non_western": non_western,
        "turkish_moroccan": turkish_moroccan,
        "other_non_western": non_western & ~turkish_moroccan,
        "low_ses": people.student_low_ses[sid - 1],
        "boy": people.student_boy[sid - 1],
    }
    teacher_iat = iat_true.pivot(index="teacher_id", columns="kind", values="d_true")
    x["iat_ethnicity"] = teacher_iat["ethnicity"].reindex(rates["teacher_id"]).to_numpy()
    x["iat_ses"] = teacher_iat["ses"].reindex(rates["teacher_id"]).to_numpy()
    x["iat_ethnicity:non_western"] = x["iat_ethnicity"] * x["non_western"]
    x["iat_ses:low_ses"] = x["iat_ses"] * x["low_ses"]
    expected = {}
    for valence in ("positive", "negative"):
        model = truth.rates[valence]
        eta = (np.log(model.rate_per_hour) + observed.class_effects[valence][cid]
               + observed.student_effects[valence][sid])
        terms = {"low_ses": x["low_ses"], "boy": x["boy"],
                 "turkish_moroccan": x["turkish_moroccan"],
                 "other_non_western": x["other_non_western"]}
        for term, beta in model.log_rate_ratio.items():
            eta = eta + beta * terms[term]
        # students never observed with the rater: their expected rate stands in
        expected[valence] = rates[f"{valence}_rate"].fillna(pd.Series(np.exp(eta))).to_numpy()
    out = rates[["student_id", "wave_id", "classroom_id", "teacher_id"]].copy()
    n_students = len(people.students)
    n_classes = len(people.classrooms)
    for name, model in truth.outcomes.items():
        class_re = rng.normal(0.0, model.class_sd, size=n_classes + 1)
        student_re = rng.normal(0.0, model.student_sd, size=n_students + 1)
        per_negative = (_equal_standardized_weight(model.per_positive_per_hour, rates)
                        if model.equal_standardized_weights else model.per_negative_per_hour)
        value = (model.intercept + model.per_positive_per_hour * expected["positive"]
                 + per_negative * expected["negative"]
                 + class_re[cid] + student_re[sid]
                 + rng.normal(0.0, model.residual_sd, size=len(out)))
        for term, beta in model.coefficients.items():
            value = value + beta * np.nan_to_num(np.asarray(x[term], dtype=float))
        out[name] = value
    out["student_negative_expectations"] = (1.8 + 0.6 * (out["student_conflict"] - 1.9)
                                            + rng.normal(0.0, 0.3, size=len(out)))
    return out


def _equal_standardized_weight(per_positive: float, rates: pd.DataFrame) -> float:
    """The slope on negative interactions per hour that weighs as much as ``per_positive`` on
    positive ones after standardizing both observed rates (rows where both are observed)."""
    both = rates[["positive_rate", "negative_rate"]].dropna().to_numpy(dtype=float)
    spread = both.std(axis=0, ddof=1)
    return float(-per_positive * spread[0] / spread[1])


@functools.cache
def _shipped_instrument(code: str) -> Instrument:
    """A shipped instrument, parsed once per process (the simulators draw thousands of studies)."""
    return load_instrument(code)


def _draw_items(design: ReplicaDesign, truth: ReplicaTruth, latent: pd.DataFrame,
                informant: str, instrument: Instrument, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which student x wave rows answered, and their item answers as stored (rows x items)."""
    answered = rng.random(len(latent)) >= design.questionnaire_missing_rate
    n = int(answered.sum())
    low, high = instrument.scale.min, instrument.scale.max
    values = np.empty((n, len(instrument.items)))
    for position, item in enumerate(instrument.items):
        column = SUBSCALE_OUTCOME.get((informant, item.subscale),
                                      f"{informant}_{item.subscale}")
        value = latent[column].to_numpy()[answered] + rng.normal(0.0, truth.item_sd, size=n)
        value = np.clip(np.floor(value + rng.random(n)), low, high)
        if item.reverse:
            value = low + high - value
        value[rng.random(n) < design.item_missing_rate] = np.nan
        values[:, position] = value
    return answered, values


def draw_questionnaires(design: ReplicaDesign, truth: ReplicaTruth, latent: pd.DataFrame,
                        rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame,
                                                           pd.DataFrame]:
    """Instruments, responses and item answers for every student x wave (some missing)."""
    instruments, responses, items = [], [], []
    next_response = 1
    for number, (informant, code) in enumerate(INSTRUMENTS.items(), start=1):
        instrument = _shipped_instrument(code)
        instruments.append({"id": number, "code": instrument.id,
                            "version": instrument.version, "informant": informant,
                            "definition": None})
        mask, values = _draw_items(design, truth, latent, informant, instrument, rng)
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


def draw_scale_scores(design: ReplicaDesign, truth: ReplicaTruth, latent: pd.DataFrame,
                      rng: np.random.Generator) -> dict[tuple[str, str], np.ndarray]:
    """The questionnaires of :func:`draw_questionnaires`, scored without storing the answers.

    The same random numbers in the same order, so the answers are those that
    :func:`draw_questionnaires` draws from the same generator state; they are scored as
    :func:`classdyad.measures.score_questionnaire` scores them (reverse keys undone, the mean
    of a subscale's answered items when at least the instrument's ``min_answered`` share of them
    is answered). ``tests/simulate/test_fast_dataset.py`` checks that the scores equal those of
    :func:`classdyad.study.score_study_questionnaires`.

    Returns
    -------
    dict
        ``(informant, subscale) ->`` one score per row of ``latent`` (``NaN`` where the
        questionnaire or too many of its items are missing).
    """
    out: dict[tuple[str, str], np.ndarray] = {}
    for informant, code in INSTRUMENTS.items():
        instrument = _shipped_instrument(code)
        answered, values = _draw_items(design, truth, latent, informant, instrument, rng)
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
            score = np.full(len(latent), np.nan)
            score[answered] = np.where(count >= needed, mean, np.nan)
            out[(informant, subscale)] = score
    return out


def draw_iat(design: ReplicaDesign, truth: ReplicaTruth, teachers: pd.DataFrame,
             rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """IAT sessions and trials of every teacher (some missing), and the true D scores."""
    kinds = list(truth.iat_mean)
    teacher_ids = np.repeat(teachers["id"].to_numpy(), len(kinds))
    kind = np.tile(kinds, len(teachers))
    d_true = rng.normal([truth.iat_mean[k] for k in kind], truth.iat_sd)
    true = pd.DataFrame({"teacher_id": teacher_ids, "kind": kind, "d_true": d_true})
    taken = rng.random(len(true)) >= design.iat_missing_rate
    sessions = true[taken].reset_index(drop=True)
    sessions.insert(0, "id", np.arange(1, len(sessions) + 1))
    sessions["wave_id"] = 1
    sessions["compatible_first"] = rng.random(len(sessions)) < 0.5
    blocks = np.repeat(np.arange(1, 8), IAT_BLOCK_TRIALS)
    trial = np.concatenate([np.arange(1, n + 1) for n in IAT_BLOCK_TRIALS])
    n_trials = len(blocks)
    session = np.repeat(sessions["id"].to_numpy(), n_trials)
    block = np.tile(blocks, len(sessions))
    first = np.repeat(sessions["compatible_first"].to_numpy(), n_trials)
    d = np.repeat(sessions["d_true"].to_numpy(), n_trials)
    combined = np.isin(block, (3, 4, 6, 7))
    incompatible = combined & (np.isin(block, (6, 7)) == first)
    sd = truth.iat_latency_sd_ms
    mean = truth.iat_latency_ms + np.where(incompatible, d * sd, 0.0)
    mean = np.maximum(mean, 350.0)
    sigma2 = np.log1p((sd / mean) ** 2)
    latency = np.exp(rng.normal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2)))
    error = rng.random(len(latency)) < truth.iat_error_rate
    latency = latency + error * rng.gamma(4.0, 100.0, size=len(latency))
    trials = pd.DataFrame({"session_id": session, "block": block,
                           "trial": np.tile(trial, len(sessions)),
                           "latency_ms": np.round(latency, 1), "error": error,
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
    scored = np.isin(block, (3, 4, 6, 7))
    scores = np.full(len(ids), np.nan)
    for position, first in enumerate(sessions["compatible_first"].to_numpy(dtype=bool)):
        roles = [_SCORED_BLOCKS[(int(b), bool(first))] for b in block[scored]]
        pair = np.array([r[0] for r in roles])
        compatible = np.array([r[1] for r in roles])
        lat = latency[position, scored]
        keep = lat <= 10_000.0
        if not keep.any() or float(np.mean(lat[keep] < 300)) > 0.10:
            continue
        keep &= ~(lat < 400.0)
        lat, pair, compatible = lat[keep], pair[keep], compatible[keep]
        pairs = []
        for name in ("practice", "test"):
            in_pair = pair == name
            first_mean = lat[in_pair & compatible]
            second_mean = lat[in_pair & ~compatible]
            spread = lat[in_pair]
            if first_mean.size == 0 or second_mean.size == 0 or spread.size < 2:
                break
            sd = spread.std(ddof=1)
            if not np.isfinite(sd) or sd == 0:
                break
            pairs.append(float((second_mean.mean() - first_mean.mean()) / sd))
        else:
            scores[position] = float(np.mean(pairs))
    return pd.DataFrame({"session_id": ids, "teacher_id": sessions["teacher_id"].to_numpy(),
                         "kind": sessions["kind"].to_numpy(), "d_score": scores})
