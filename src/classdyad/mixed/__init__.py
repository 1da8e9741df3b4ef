"""Linear and generalized linear mixed models with lme4's formula syntax.

``lmm`` fits linear mixed models by profiled REML or ML (Bates et al. 2015) with Satterthwaite
degrees of freedom as lmerTest; ``glmm`` fits Poisson, negative-binomial (NB2, NB1) and
binomial mixed models, optionally zero-inflated, by the Laplace approximation or adaptive
Gauss-Hermite quadrature, and generalized linear models for formulas without random terms. Both
are checked against lme4 / lmerTest / glmmTMB / glm / MASS::glm.nb (golden tests in
``tests/mixed``). The implementation modules
are private (their names start with ``_``); this namespace is the public interface.
"""

from classdyad.mixed._generalized_mixed import GeneralizedMixedModelResult, glmm
from classdyad.mixed._linear_mixed import FixedEffectTests, LinearMixedModelResult, lmm
from classdyad.mixed._mixed_results import MixedModelResult

__all__ = [
    "FixedEffectTests",
    "GeneralizedMixedModelResult",
    "LinearMixedModelResult",
    "MixedModelResult",
    "glmm",
    "lmm",
]
