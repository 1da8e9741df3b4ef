"""Questionnaire scoring and reliability, IAT D scores, inter-coder agreement.

DataFrames in, results out.
"""

from classdyad.measures.agreement import NO_EVENT, VALENCE_ORDER, CoderAgreement, coder_agreement
from classdyad.measures.fleiss_kappa import FleissKappa, fleiss_kappa, fleiss_kappa_from_counts
from classdyad.measures.generalizability import DStudy, d_study
from classdyad.measures.guttman import GuttmanLambda6, guttman_lambda6
from classdyad.measures.iat import (
    IAT_ROLES,
    IatScores,
    IatSplitHalf,
    iat_split_half,
    read_iat_trials,
    score_brief_iat,
    score_iat,
    score_single_category_iat,
)
from classdyad.measures.icc import IntraclassCorrelation, icc_from_matrix, intraclass_correlation
from classdyad.measures.instruments import (
    Instrument,
    InstrumentItem,
    ResponseScale,
    list_instruments,
    load_instrument,
)
from classdyad.measures.kappa import (
    CohenKappa,
    agreement_weights,
    cohen_kappa,
    confusion_matrix,
    grouped_kappa,
    kappa_from_table,
    percent_agreement,
    weight_matrix,
)
from classdyad.measures.krippendorff import (
    KrippendorffAlpha,
    alpha_from_coincidences,
    krippendorff_alpha,
)
from classdyad.measures.omega import (
    CfaOmega,
    OmegaHierarchical,
    cfa_omega,
    omega_hierarchical,
)
from classdyad.measures.questionnaires import (
    QuestionnaireScores,
    questionnaire_reliability,
    score_questionnaire,
)
from classdyad.measures.reliability import (
    CronbachAlpha,
    McDonaldOmega,
    cronbach_alpha,
    mcdonald_omega,
)
from classdyad.measures.time_unit import TimeUnitKappa, time_unit_kappa

__all__ = [
    "IAT_ROLES",
    "NO_EVENT",
    "VALENCE_ORDER",
    "CfaOmega",
    "CoderAgreement",
    "CohenKappa",
    "CronbachAlpha",
    "DStudy",
    "FleissKappa",
    "GuttmanLambda6",
    "IatScores",
    "IatSplitHalf",
    "Instrument",
    "InstrumentItem",
    "IntraclassCorrelation",
    "KrippendorffAlpha",
    "McDonaldOmega",
    "OmegaHierarchical",
    "QuestionnaireScores",
    "ResponseScale",
    "TimeUnitKappa",
    "agreement_weights",
    "alpha_from_coincidences",
    "cfa_omega",
    "coder_agreement",
    "cohen_kappa",
    "confusion_matrix",
    "cronbach_alpha",
    "d_study",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "grouped_kappa",
    "guttman_lambda6",
    "iat_split_half",
    "icc_from_matrix",
    "intraclass_correlation",
    "kappa_from_table",
    "krippendorff_alpha",
    "list_instruments",
    "load_instrument",
    "mcdonald_omega",
    "omega_hierarchical",
    "percent_agreement",
    "questionnaire_reliability",
    "read_iat_trials",
    "score_brief_iat",
    "score_iat",
    "score_questionnaire",
    "score_single_category_iat",
    "time_unit_kappa",
    "weight_matrix",
]
