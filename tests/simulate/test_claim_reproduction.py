"""How often replica studies reproduce the published claims (the design's power for each).

The fast tests count on a hand-made table and run the machinery on one small replica. The slow
test replicates the full seed design and requires every claim to be reproduced in most
replications; ``python -m bench published_claims`` prints the same table for any number of
replications.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from classdyad.errors import DataError
from classdyad.simulate import ReplicaDesign, reproduce_published_findings
from classdyad.simulate.claim_reproduction import reproduction_rates
from classdyad.study.published_findings import PUBLISHED_CLAIMS

SMALL = ReplicaDesign(schools=4, classes=8, students=170)


def test_a_claim_is_reproduced_in_a_seed_when_every_check_agrees() -> None:
    first, second = PUBLISHED_CLAIMS[0], PUBLISHED_CLAIMS[4]  # one check, two checks
    checks = pd.DataFrame({
        "seed": [1, 2, 3, 1, 1, 2, 2, 3, 3],
        "claim": [first.id] * 3 + [second.id] * 6,
        "agrees": [True, True, False, True, True, True, False, False, False]})
    rates = reproduction_rates(checks).set_index("claim")
    assert list(rates.index) == [first.id, second.id]
    assert rates.loc[first.id, "reproduced"] == 2 and rates.loc[second.id, "reproduced"] == 1
    assert rates.loc[first.id, "rate"] == pytest.approx(2 / 3)
    assert rates.loc[first.id, "rate_se"] == pytest.approx(math.sqrt(2 / 9 / 3))
    assert (rates["replications"] == 3).all()


@pytest.mark.filterwarnings("ignore::classdyad.errors.ClassdyadWarning")
def test_one_small_replication_checks_every_claim() -> None:
    done = []
    result = reproduce_published_findings(1, design=SMALL, first_seed=3, n_draws=500,
                                          progress=lambda k, n: done.append((k, n)))
    assert done == [(1, 1)] and result.seeds == (3,)
    rates = result.to_frame()
    assert list(rates["claim"]) == [claim.id for claim in PUBLISHED_CLAIMS]
    assert (rates["replications"] == 1).all()
    assert set(rates["rate"]) <= {0.0, 1.0}
    assert len(result.checks) == sum(len(claim.checks) for claim in PUBLISHED_CLAIMS)
    assert result.all_claims in (0.0, 1.0)
    assert "replications" in result._repr_html_()


def test_at_least_one_replication_is_needed() -> None:
    with pytest.raises(DataError, match="replications"):
        reproduce_published_findings(0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::classdyad.errors.ClassdyadWarning")
def test_the_seed_design_reproduces_every_claim_in_most_replications() -> None:
    # 8 replications of the full design (about 3 minutes on a quiet machine). With 20
    # replications (python -m bench published_claims) every claim's rate is at least 0.8;
    # fewer than 6 of 8 would put a claim's rate below that with little doubt.
    result = reproduce_published_findings(8, first_seed=101)
    print(result.rates[["claim", "reproduced", "replications", "rate"]].to_string(index=False))
    assert (result.rates["reproduced"] >= 6).all(), result.rates
