"""Synthetic studies with known truth (the replica of the seed design) and power analysis."""

from classdyad.simulate.claim_reproduction import (
    ClaimReproduction,
    reproduce_published_findings,
)
from classdyad.simulate.design import OutcomeModel, RateModel, ReplicaDesign, ReplicaTruth
from classdyad.simulate.replica import ReplicaFiles, SimulatedStudy, simulate_study, write_replica

__all__ = [
    "ClaimReproduction",
    "OutcomeModel",
    "RateModel",
    "ReplicaDesign",
    "ReplicaFiles",
    "ReplicaTruth",
    "SimulatedStudy",
    "reproduce_published_findings",
    "simulate_study",
    "write_replica",
]
