"""Parsing of lme4-style mixed-model formulas (text only; no data needed).

:func:`parse_formula` splits ``response ~ fixed + (effects | group) + ...`` into the response,
the fixed part, ``offset()`` terms and the random-effects terms, expanding nested groupings
(``(1 | a/b)`` -> ``(1 | a) + (1 | a:b)``) and uncorrelated terms (``(1 + x || g)`` ->
``(1 | g) + (0 + x | g)``) as lme4 does (Bates et al. 2015, section 2.1; lme4's ``findbars`` and
``expandDoubleVerts``). :mod:`classdyad.mixed._formula` builds the matrices on data.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from classdyad.errors import FormulaError

__all__ = ["ParsedFormula", "RandomTermSpec", "parse_formula"]

_OFFSET = re.compile(r"^offset\((.*)\)$", re.DOTALL)


@dataclass(frozen=True)
class RandomTermSpec:
    """One random-effects term of a formula, after expansion of ``/`` and ``||``."""

    effects: str
    group: str
    group_variables: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFormula:
    """A mixed-model formula split into response, fixed part, offsets and random terms."""

    formula: str
    response: str
    fixed: str
    offsets: tuple[str, ...]
    random: tuple[RandomTermSpec, ...]


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split ``text`` at ``separator`` outside parentheses and brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _outer_parenthesised(text: str) -> str | None:
    """Return the inside of ``(...)`` when the parentheses enclose the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(text) - 1:
            return None
    return text[1:-1]


def _expand_group(group: str, formula: str) -> list[tuple[str, ...]]:
    """``a/b/c`` -> ``[(a,), (a, b), (a, b, c)]``; ``a:b`` -> ``[(a, b)]``."""
    group = group.strip()
    nested = [part.strip() for part in group.split("/")]
    out: list[tuple[str, ...]] = []
    prefix: tuple[str, ...] = ()
    for part in nested:
        variables = tuple(v.strip() for v in part.split(":"))
        if not all(re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", v) for v in variables):
            raise FormulaError(
                f"formula {formula!r}: grouping factor {group!r} is not a column name or "
                "a/b or a:b of column names; create the grouping column in the data first"
            )
        prefix = prefix + variables
        out.append(prefix)
    return out


def _effects_terms(effects: str) -> tuple[bool, list[str]]:
    """Split the left side of ``||`` into (has intercept, list of non-intercept terms)."""
    intercept = True
    terms = []
    for raw in _split_top_level(effects, "+"):
        piece = raw.strip()
        if not piece:
            continue
        if piece in ("0", "-1") or piece.endswith("- 1") or piece.endswith("-1"):
            intercept = False
            piece = re.sub(r"-\s*1$", "", piece).strip()
            if piece in ("", "0"):
                continue
        if piece == "1":
            intercept = True
            continue
        terms.append(piece)
    return intercept, terms


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4-style mixed-model formula into its parts.

    Parameters
    ----------
    formula
        ``"response ~ fixed part + (effects | group) + ..."``; see the module docstring.

    Returns
    -------
    ParsedFormula
        Response text, fixed part, offsets and the random terms, with nested (``/``) and
        uncorrelated (``||``) terms expanded as lme4 does.
    """
    if not isinstance(formula, str):
        raise FormulaError(
            f"formula {formula!r} must be a string with one '~', e.g. 'y ~ x + (1 | group)'"
        )
    return _parse_formula_cached(formula)


@functools.lru_cache(maxsize=256)
def _parse_formula_cached(formula: str) -> ParsedFormula:
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise FormulaError(
            f"formula {formula!r} must be a string with one '~', e.g. 'y ~ x + (1 | group)'"
        )
    lhs, rhs = (side.strip() for side in formula.split("~"))
    if not lhs:
        raise FormulaError(f"formula {formula!r} has no response; write 'y ~ ...'")
    fixed_parts: list[str] = []
    offsets: list[str] = []
    random: list[RandomTermSpec] = []
    for raw in _split_top_level(rhs, "+"):
        piece = raw.strip()
        if not piece:
            continue
        inner = _outer_parenthesised(piece)
        if inner is not None and len(_split_top_level(inner, "|")) > 1:
            double = _split_top_level(inner, "||")
            if len(double) == 2:
                effects, group = double
                intercept, terms = _effects_terms(effects)
                pieces = (["1"] if intercept else []) + [f"0 + {t}" for t in terms]
            else:
                single = _split_top_level(inner, "|")
                if len(single) != 2:
                    raise FormulaError(
                        f"formula {formula!r}: random term {piece!r} must look like "
                        "(effects | group) or (effects || group)"
                    )
                effects, group = single
                pieces = [effects.strip() or "1"]
            for variables in _expand_group(group, formula):
                for eff in pieces:
                    random.append(RandomTermSpec(eff.strip(), ":".join(variables), variables))
            continue
        match = _OFFSET.match(piece)
        if match:
            offsets.append(match.group(1).strip())
            continue
        fixed_parts.append(piece)
    fixed = " + ".join(fixed_parts) if fixed_parts else "1"
    return ParsedFormula(formula, lhs, fixed, tuple(offsets), tuple(random))
