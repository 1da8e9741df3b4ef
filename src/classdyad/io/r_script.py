"""R exports: the data as CSV and an R script with the study's ``lme4::lmer`` calls.

:func:`write_r` writes ``STEM.csv`` (with its codebook, :mod:`classdyad.io.delimited`) and
``STEM.R``. The script reads the CSV relative to its own folder, turns the columns its codebook
marks as boolean into 0/1 numbers (so coefficient names match classdyad's), fits every model it
is given (by default the study models of :mod:`classdyad.study.models`; ``classdyad export r``
adds the study plan's relationship-gap models, each on its own rows) with ``lme4::lmer`` by REML
(lme4's default; Bates et al. 2015), prints the summaries and writes the fixed effects and
variance components to
``STEM_estimates.csv``, which is how the exported script is checked against classdyad's own
estimates.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from classdyad.errors import DataError
from classdyad.io.codebook import prepare
from classdyad.io.delimited import codebook_path, write_csv
from classdyad.io.regression_model import RegressionModel


@dataclass(frozen=True)
class RFiles:
    """The files :func:`write_r` wrote."""

    data: Path
    script: Path
    estimates: Path


def _r_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def r_script(models: Sequence[RegressionModel], *, data_file: str, codebook_file: str,
             estimates_file: str, repeated_measures: bool) -> str:
    """The text of the R script (see the module docstring)."""
    lines = [
        "# classdyad export: the study's mixed models with lme4.",
        "# Run with: Rscript " + Path(data_file).with_suffix(".R").name,
        "# Needs R (>= 4.0) with the lme4 package: install.packages(\"lme4\").",
        "suppressPackageStartupMessages(library(lme4))",
        "",
        "args <- commandArgs(trailingOnly = FALSE)",
        "script <- sub(\"^--file=\", \"\", args[grep(\"^--file=\", args)])",
        "folder <- if (length(script) == 1) dirname(normalizePath(script)) else getwd()",
        f"d <- read.csv(file.path(folder, {_r_string(data_file)}), stringsAsFactors = FALSE)",
        f"book <- read.csv(file.path(folder, {_r_string(codebook_file)}), "
        "stringsAsFactors = FALSE)",
        "# true/false columns as 0/1 numbers, as classdyad codes them",
        "for (v in book$column[book$type == \"boolean\"]) {",
        "  x <- as.character(d[[v]])",
        "  d[[v]] <- ifelse(is.na(x) | x == \"\", NA, as.numeric(x %in% c(\"True\", \"TRUE\")))",
        "}",
        "",
        "models <- list(",
    ]
    entries = [f"  {m.name} = {m.lme4_formula(repeated_measures=repeated_measures)}"
               for m in models]
    selections = [f"  {m.name} = {_r_string(m.rows)}" for m in models if m.rows]
    lines += [",\n".join(entries), ")", "",
              "# rows each model uses, where not all (an R expression over the columns)",
              "selections <- list(", ",\n".join(selections), ")", "",
              "rows <- list()",
              "for (name in names(models)) {",
              "  used <- d",
              "  if (!is.null(selections[[name]])) {",
              "    used <- d[which(with(d, eval(parse(text = selections[[name]])))), ]",
              "  }",
              "  fit <- lmer(models[[name]], data = used, REML = TRUE)",
              "  print(summary(fit))",
              "  fixed <- summary(fit)$coefficients",
              "  rows[[length(rows) + 1]] <- data.frame(model = name, effect = \"fixed\",",
              "    group = NA, term = rownames(fixed), estimate = fixed[, \"Estimate\"],",
              "    std_error = fixed[, \"Std. Error\"], row.names = NULL)",
              "  vc <- as.data.frame(VarCorr(fit))",
              "  rows[[length(rows) + 1]] <- data.frame(model = name, effect = \"ran_pars\",",
              "    group = vc$grp, term = \"sd\", estimate = vc$sdcor, std_error = NA,",
              "    row.names = NULL)",
              "}",
              "estimates <- do.call(rbind, rows)",
              f"write.csv(estimates, file.path(folder, {_r_string(estimates_file)}),",
              "  row.names = FALSE)",
              ""]
    return "\n".join(lines)


def write_r(data: pd.DataFrame, directory: str | Path, *, stem: str = "classdyad",
            models: Sequence[RegressionModel],
            variable_labels: Mapping[str, str] | None = None) -> RFiles:
    """Write the data (CSV with codebook) and an R script with the study's ``lmer`` calls.

    A random intercept per student is added when students have several rows (one per wave).
    """
    data = prepare(data)
    for model in models:
        needed = (model.outcome, *model.columns) if model.formula else (
            model.outcome, *model.predictors, model.cluster)
        absent = [c for c in needed if c not in data.columns]
        if absent:
            raise DataError(f"model {model.name}: the data lack column(s) {absent}; export the "
                            "analysis dataset")
    repeated = bool("student" in data.columns and data["student"].duplicated().any())
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data_path = write_csv(data, folder / f"{stem}.csv", variable_labels=variable_labels)
    estimates = folder / f"{stem}_estimates.csv"
    script = folder / f"{stem}.R"
    text = r_script(models, data_file=data_path.name, codebook_file=codebook_path(data_path).name,
                    estimates_file=estimates.name, repeated_measures=repeated)
    script.write_text(text, encoding="utf-8", newline="\n")
    return RFiles(data=data_path, script=script, estimates=estimates)


__all__ = ["RFiles", "r_script", "write_r"]
