"""A second coder for a share of the replica's lessons, with known error rates.

For each double-coded lesson the second coder sees the same interactions as the first, but misses
some (``second_coder_miss_rate``), codes each one a little earlier or later (normal time jitter with
SD ``second_coder_jitter_sd`` seconds), confuses the valence of some
(``second_coder_valence_confusion``: the valence is replaced by one of the two others, with a
subtype of that valence) and adds extra
events that the first coder did not code (``second_coder_extra_rate`` per first-coder event, copies
of another event of the lesson at a random time). Agreement statistics computed on these lessons
can be checked against these rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from classdyad.simulate.design import ReplicaDesign, ReplicaTruth
from classdyad.simulate.observation import CODEBOOK, VALENCES


def add_second_coder(events: pd.DataFrame, lessons: pd.DataFrame, design: ReplicaDesign,
                     truth: ReplicaTruth, *, coder_id: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Return ``events`` plus a second coder's events for a random share of lessons."""
    n_double = round(len(lessons) * design.second_coder_lesson_share)
    chosen = rng.choice(lessons["id"].to_numpy(), size=n_double, replace=False)
    first = events[events["lesson_id"].isin(chosen)]
    kept = first[rng.random(len(first)) >= truth.second_coder_miss_rate].copy()
    minutes = lessons.set_index("id")["observed_minutes"]
    n_extra = rng.binomial(len(first), truth.second_coder_extra_rate) if len(first) else 0
    extra = first.iloc[rng.integers(0, len(first), size=n_extra)].copy()
    extra["video_seconds"] = rng.random(n_extra) * minutes.reindex(
        extra["lesson_id"]).to_numpy() * 60.0
    second = pd.concat([kept, extra], ignore_index=True)
    jitter = rng.normal(0.0, truth.second_coder_jitter_sd, size=len(second))
    limit = minutes.reindex(second["lesson_id"]).to_numpy() * 60.0
    second["video_seconds"] = np.round(np.clip(second["video_seconds"] + jitter, 0.0, limit), 2)
    confused = rng.random(len(second)) < truth.second_coder_valence_confusion
    valence = second["valence"].to_numpy().copy()
    subtype = second["subtype"].to_numpy().copy()
    for i in np.flatnonzero(confused):
        others = [v for v in VALENCES if v != valence[i]]
        valence[i] = others[rng.integers(0, 2)]
        options = [s for s, (v, _, _) in CODEBOOK.items() if v == valence[i]]
        subtype[i] = options[rng.integers(0, len(options))]
    second["valence"] = valence
    second["subtype"] = subtype
    second["coder_id"] = coder_id
    second = second.sort_values(["lesson_id", "video_seconds"], kind="stable",
                                ignore_index=True)
    start = int(events["id"].max()) + 1
    second["id"] = np.arange(start, start + len(second))
    second["client_id"] = [f"replica-second-{i:07d}" for i in range(1, len(second) + 1)]
    return pd.concat([events, second], ignore_index=True)
