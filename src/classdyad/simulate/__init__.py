"""Synthetic studies with known truth (the replica of the seed design) and power analysis."""

from classdyad.simulate.claim_reproduction import (
    ClaimReproduction,
    reproduce_published_findings,
)
from classdyad.simulate.design import OutcomeModel, RateModel, ReplicaDesign, ReplicaTruth
from classdyad.simulate.fast_dataset import draw_analysis_dataset
from classdyad.simulate.power_analysis import design_grid, power
from classdyad.simulate.power_effects import (
    describe_truth,
    null_truth,
    truth_from_mapping,
    truth_from_pilot,
    truth_from_yaml,
)
from classdyad.simulate.power_results import PowerResult
from classdyad.simulate.replica import ReplicaFiles, SimulatedStudy, simulate_study, write_replica

__all__ = [
    "ClaimReproduction",
    "OutcomeModel",
    "PowerResult",
    "RateModel",
    "ReplicaDesign",
    "ReplicaFiles",
    "ReplicaTruth",
    "SimulatedStudy",
    "describe_truth",
    "design_grid",
    "draw_analysis_dataset",
    "null_truth",
    "power",
    "reproduce_published_findings",
    "simulate_study",
    "truth_from_mapping",
    "truth_from_pilot",
    "truth_from_yaml",
    "write_replica",
]
