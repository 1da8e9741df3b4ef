"""Synthetic studies with known truth (the replica of the seed design) and power analysis."""

from classdyad.simulate.design import OutcomeModel, RateModel, ReplicaDesign, ReplicaTruth
from classdyad.simulate.replica import ReplicaFiles, SimulatedStudy, simulate_study, write_replica

__all__ = [
    "OutcomeModel",
    "RateModel",
    "ReplicaDesign",
    "ReplicaFiles",
    "ReplicaTruth",
    "SimulatedStudy",
    "simulate_study",
    "write_replica",
]
