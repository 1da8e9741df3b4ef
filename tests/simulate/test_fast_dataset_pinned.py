"""The fast path's draws are pinned bit for bit: same columns, dtypes, index and values, and the
same use of the random generator.

The fingerprints below were produced by the frame-based implementation of
:func:`classdyad.simulate.draw_analysis_dataset` (commit 3893b30, before it was rewritten on
numpy arrays; numpy 2.4, pandas 3.1, pyarrow 26) and were stable across runs. A fingerprint is
the SHA-256 of the frame's row hashes (``pandas.util.hash_pandas_object``, index included), of
every column's name, dtype and storage, and of the index. The designs cover the replica, a small
one with heavy attrition, absence and missing data, unequal class sizes with a single grade and
one lesson per wave, a single wave without combination or duo classes, and a doubled replica
whose slow IAT latencies exclude some sessions.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest

from classdyad.simulate import ReplicaDesign, ReplicaTruth, draw_analysis_dataset

SMALL = ReplicaDesign(schools=4, classes=9, students=150, waves=2, absence_rate=0.3,
                      leave_rate_per_wave=0.2, questionnaire_missing_rate=0.2,
                      item_missing_rate=0.2, iat_missing_rate=0.3, duo_class_share=0.5)
UNEVEN = ReplicaDesign(schools=6, classes=12, students=300, class_size_shape=1.0, grades=(6,),
                       lessons_per_wave=1)
ONE_WAVE = ReplicaDesign(schools=2, classes=3, students=15, waves=1,
                         combination_class_share=0.0, duo_class_share=0.0)
SLOW_IAT = dataclasses.replace(ReplicaTruth(), iat_latency_ms=540.0)

#: (design, truth, seed, iat) -> fingerprint
PINNED = [
    ("replica", None, 0, True,
     "399075c28057bc93fa429c02bd0ed196382f1857c87254aa8aa8147a77d329e4"),
    ("replica", None, 0, False,
     "81172c5d611ae01d78210c6cfca9a2f50d5b27b736879f497e1167375736ced7"),
    ("replica", None, 1, True,
     "ba8e881fca910fbf3ef43c06580ed19a6863cc89bfed79f0636e881ee2889b56"),
    ("replica", None, 1, False,
     "b291e3732887e67d5980d83e372afdbf34d50903ad3bd4547879c0735259b311"),
    ("replica", None, 7, True,
     "a46298bce51fe712d11bae9b0fb162bbf7a4d522eff1426cd76fb90d050adf95"),
    ("replica", None, 7, False,
     "dd216d73caa3f13a500805972d307ccf39d3991bfd5cd3caba24f3f1f8dc8486"),
    ("small", None, 2, True,
     "fc746786f65df0f6b3744f431b6948271097a6dffb764715b6d0567667d4c114"),
    ("small", None, 2, False,
     "e12730f71d8be86521f2ddea3dc58f36b930ae6c903a677557c7eed886d00eae"),
    ("small", None, 3, True,
     "c638e60675a79cc5c7997ba532e22b5b9029ad4a731df7a71c82b1085080de42"),
    ("small", None, 3, False,
     "51c9a549d62b4a80404e03b1d5d610fdc9be3809c34e8036012f5ae4111cb7ad"),
    ("uneven", None, 4, True,
     "ba8814cfb56dabb7c762c6630228788d256a44c619a4b0587fc3e74e591c25de"),
    ("uneven", None, 4, False,
     "d5dd870d13fa6c1339f6b5c47d52cbdce1dbac2c4eff042dd19ec2619122b7df"),
    ("one_wave", None, 5, True,
     "af389c49c1b9fa96671ace3588565f624de43cf3289049901928bf189d874af7"),
    ("one_wave", None, 5, False,
     "80da328c49b3792f4dc67b5110d04d8556bde0175f527a4222606cc57392c843"),
    ("doubled", "slow_iat", 6, True,
     "9dd7419974b395b3e87c596c6d3c637c99bdc197485f6a08fd927e8618c58feb"),
    ("doubled", "slow_iat", 6, False,
     "a8803cb8ce87c980514ac4c3cce569cf5612501a9b087750cdd57d87ea4610f3"),
]
#: design -> the next uniform number of ``default_rng(99)`` after one draw (IATs included)
PINNED_NEXT_UNIFORM = {"replica": 0.7840542717762672, "small": 0.43604005927019784,
                       "uneven": 0.7914913808645397, "one_wave": 0.5994139286136976,
                       "doubled": 0.8747156327812401}

DESIGNS = {"replica": ReplicaDesign(), "small": SMALL, "uneven": UNEVEN, "one_wave": ONE_WAVE,
           "doubled": ReplicaDesign(scale=2)}
TRUTHS = {None: None, "slow_iat": SLOW_IAT}


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's row hashes, column names, dtypes (with storage) and index."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(repr([(name, repr(dtype), getattr(dtype, "storage", None))
                        for name, dtype in frame.dtypes.items()]).encode())
    digest.update(repr(frame.index).encode())
    return digest.hexdigest()


@pytest.mark.parametrize(("design", "truth", "seed", "iat", "expected"), PINNED)
def test_draws_equal_the_pinned_ones(design: str, truth: str | None, seed: int, iat: bool,
                                     expected: str) -> None:
    frame = draw_analysis_dataset(DESIGNS[design], TRUTHS[truth], rng=seed, iat=iat)
    assert fingerprint(frame) == expected


@pytest.mark.parametrize("design", list(PINNED_NEXT_UNIFORM))
def test_draws_use_the_generator_as_pinned(design: str) -> None:
    generator = np.random.default_rng(99)
    truth = SLOW_IAT if design == "doubled" else None
    draw_analysis_dataset(DESIGNS[design], truth, rng=generator)
    assert generator.random() == PINNED_NEXT_UNIFORM[design]


def test_the_fingerprint_sees_a_change() -> None:
    frame = draw_analysis_dataset(ONE_WAVE, rng=5, iat=False)
    changed = frame.copy()
    changed.loc[0, "teacher_closeness"] = np.nextafter(changed.loc[0, "teacher_closeness"], 9)
    recoded = frame.astype({"student": object})
    assert len({fingerprint(frame), fingerprint(changed), fingerprint(recoded)}) == 3


def test_text_columns_fall_back_to_objects_where_pandas_keeps_text_in_objects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from classdyad.simulate import fast_dataset

    codes = fast_dataset._codes("P", 6, 12)
    positions = np.array([11, 0, 0, 4])
    arrow = fast_dataset._text(codes, positions)
    assert pd.Series(arrow).dtype == pd.Series(["P000001"]).dtype
    monkeypatch.setattr(fast_dataset, "_text_dtype", lambda: np.dtype(object))
    objects = fast_dataset._text(codes, positions)
    assert objects.dtype == object
    assert objects.tolist() == list(arrow) == ["P000012", "P000001", "P000001", "P000005"]
