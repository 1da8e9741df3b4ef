"""The study report: one self-contained HTML file, with its figures and tables as files.

:func:`study_report` gathers the sections of a publication-ready report of a whole study:

1. a plain-language summary of the findings;
2. design and sample (Table 1: students by migration background and SES; classes, schools,
   waves, lessons and observed time);
3. data quality (coder agreement, questionnaire reliabilities, IAT exclusions, missing values);
4. interaction patterns (per student and per class, by group, over the waves);
5. one section per hypothesis of the analysis plan (APA tables, forest plots, path diagrams,
   the negativity-bias contrast);
6. the findings compared with the published study: each published claim of the seed study,
   what this analysis found and whether it agrees (:mod:`classdyad.report.published_section`);
7. methods, generated from the models that were actually fitted (formulas, families, n,
   software versions, fitting notes);
8. an appendix with every estimate at report precision.

The estimates come from a results mapping (``results.json`` as written by
``classdyad analyze``, or :meth:`StudyPlanResult.to_dict`), so the report shows exactly the
numbers of the results file; every number carries its source key and full-precision value
(:mod:`classdyad.report.numbers`). Figures are inline SVG and the page loads nothing from the
network. Text is English or Dutch, translated with gettext catalogs (:mod:`classdyad.report.i18n`).
"""

from __future__ import annotations

import datetime as _datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from classdyad.errors import DataError, check_option
from classdyad.model import StudyTables
from classdyad.report import hypotheses, published_section, study_sections
from classdyad.report.figures import ReportFigure
from classdyad.report.i18n import LANGUAGES, Language, translations
from classdyad.report.numbers import NumberFormatter, is_missing
from classdyad.report.tables import ReportTable, cell
from classdyad.study import build_analysis_dataset
from classdyad.study.plan import StudyPlanResult

TEMPLATES = Path(__file__).parent / "templates"
#: the report's sections (HTML ids), in order
SECTIONS = ("summary", "design", "data-quality", "interactions", "hypotheses",
            "published-findings", "methods", "appendix")


@dataclass(frozen=True)
class StudyReport:
    """A written study report.

    Attributes
    ----------
    html
        The self-contained HTML document.
    language
        ``"en"`` or ``"nl"``.
    figures
        Every figure (SVG text and PNG bytes).
    tables
        Every table (formatted cells, full-precision data, LaTeX).
    numbers
        Every number shown: ``key, value, text, digits, kind`` (``key`` starting with
        ``estimates/`` points into ``results.json``).
    """

    html: str = field(repr=False)
    language: str
    figures: tuple[ReportFigure, ...] = field(repr=False)
    tables: tuple[ReportTable, ...] = field(repr=False)
    numbers: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Every number shown in the report, with its source key and full value (a copy)."""
        return self.numbers.copy()

    def save(self, path: str | Path) -> Path:
        """Write the HTML to ``path``, figures (PNG, SVG) to ``figures/`` and tables (CSV,
        LaTeX) to ``tables/`` beside it; return the HTML's path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.html, encoding="utf-8")
        figure_dir = target.parent / "figures"
        table_dir = target.parent / "tables"
        figure_dir.mkdir(exist_ok=True)
        table_dir.mkdir(exist_ok=True)
        for figure in self.figures:
            (figure_dir / f"{figure.name}.svg").write_text(figure.svg, encoding="utf-8")
            (figure_dir / f"{figure.name}.png").write_bytes(figure.png)
        for table in self.tables:
            table.data.to_csv(table_dir / f"{table.name}.csv", index=False)
            (table_dir / f"{table.name}.tex").write_text(table.to_latex(), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        return self.html


def results_mapping(results: StudyPlanResult | Mapping[str, Any] | str | Path
                    ) -> dict[str, Any]:
    """The results as JSON values: a :class:`StudyPlanResult`, a mapping or a results.json path.

    A plan result goes through its JSON text, so the report of a fresh run shows the same
    numbers as the ``results.json`` written from it.
    """
    if isinstance(results, StudyPlanResult):
        return json.loads(results.to_json())
    if isinstance(results, str | Path):
        with open(results, encoding="utf-8") as handle:
            return json.load(handle)
    if isinstance(results, Mapping):
        return dict(results)
    raise DataError(f"results must be a StudyPlanResult, a mapping or a path to results.json, "
                    f"not {type(results).__name__}; run the analysis plan first")


def _environment(language: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def study_report(tables: StudyTables, results: StudyPlanResult | Mapping[str, Any] | str | Path,
                 *, language: Language = "en", dataset: pd.DataFrame | None = None,
                 title: str | None = None) -> StudyReport:
    """Write the report of a study and its analysis plan.

    Parameters
    ----------
    tables
        The study (:func:`classdyad.store.read_study` or the simulator).
    results
        The analysis plan's results: a :class:`~classdyad.study.plan.StudyPlanResult`,
        the mapping of ``results.json`` or its path. The report shows exactly these numbers.
    language
        ``"en"`` (English) or ``"nl"`` (Dutch).
    dataset
        The analysis dataset; built from ``tables`` when not given.
    title
        The report's title; default the study's name.

    Returns
    -------
    StudyReport
        Call :meth:`StudyReport.save` to write it with its figures and tables.
    """
    check_option("language", language, LANGUAGES)
    mapping = results_mapping(results)
    gettext = translations(language).gettext
    _ = gettext
    fmt = NumberFormatter(language)
    if dataset is None:
        dataset = build_analysis_dataset(tables)
    if dataset.empty:
        raise DataError("the analysis dataset is empty; a report needs students with lessons "
                        "and questionnaires")

    summary = hypotheses.summary_sentences(mapping, _=_, fmt=fmt)
    design = study_sections.design_table(tables, dataset, _=_, fmt=fmt)
    sample = study_sections.sample_table(dataset, _=_, fmt=fmt)
    quality = [t for t in (study_sections.agreement_table(tables, _=_, fmt=fmt),
                           study_sections.reliability_table(tables, _=_, fmt=fmt),
                           study_sections.iat_table(tables, _=_, fmt=fmt),
                           study_sections.missing_table(dataset, _=_, fmt=fmt)) if t is not None]
    pattern_figures, pattern_table = study_sections.pattern_figures(dataset, _=_, fmt=fmt)
    sections = hypotheses.hypothesis_sections(mapping, _=_, fmt=fmt)
    published = published_section.comparison_section(mapping, _=_, fmt=fmt, language=language)
    methods = _methods(mapping, _=_, fmt=fmt)
    appendix = _appendix(mapping, _=_, fmt=fmt)

    all_tables = [design, sample, *quality, pattern_table,
                  *(t for s in sections for t in s.tables), published.table,
                  methods["models_table"],
                  methods["software_table"], appendix]
    all_figures = [*pattern_figures, *(f for s in sections for f in s.figures)]
    page = _environment(language).get_template("report.html").render(
        language=language, title=title or tables.name, study=tables.name,
        written=_datetime.date.today().isoformat(), summary=summary, design=design,
        sample=sample, quality=quality, pattern_figures=pattern_figures,
        pattern_table=pattern_table, sections=sections, published=published, methods=methods,
        appendix=appendix,
        n_students=fmt.integer(mapping.get("n_students"), "n_students"),
        n_rows=fmt.integer(mapping.get("n_rows"), "n_rows"), sections_order=SECTIONS)
    return StudyReport(html=page, language=language, figures=tuple(all_figures),
                       tables=tuple(all_tables), numbers=fmt.table())


def _methods(results: Mapping[str, Any], *, _: Any, fmt: NumberFormatter) -> dict[str, Any]:
    """The methods section: models actually fitted, families, n, software, notes."""
    models = hypotheses.model_rows(results)
    frame = hypotheses.estimates_frame(results)
    rows, records = [], []
    for model in models:
        first = model["rows"][0] if model["rows"] else None
        n = (fmt.integer(frame.loc[first, "n"], f"estimates/{first}/n")
             if first is not None else Markup(""))
        rows.append((cell(model["hypothesis"]), Markup("<code>{}</code>").format(model["id"]),
                     Markup("<code>{}</code>").format(model["formula"]), cell(model["family"]),
                     n))
        records.append({k: model[k] for k in ("hypothesis", "id", "formula", "family")})
    models_table = ReportTable(
        name="models", caption=_("Models fitted"),
        header=(_("hypothesis"), _("model"), _("formula (lme4 syntax)"), _("family"), "n"),
        rows=tuple(rows), data=pd.DataFrame(records))
    software = dict(results.get("software", {}))
    software_table = ReportTable(
        name="software", caption=_("Software"), header=(_("package"), _("version")),
        rows=tuple((cell(k), cell(v)) for k, v in software.items()),
        data=pd.DataFrame({"package": list(software), "version": list(software.values())}))
    families = sorted({m["family"] for m in models if m["family"]})
    tested = int(frame["p_value"].notna().sum()) if "p_value" in frame else 0
    present = set(frame["hypothesis"]) if len(frame) else set()
    n_models = fmt.integer(len(models), "study/methods/models")
    paragraphs = [Markup.escape(_(
        "The analysis dataset holds one row per student and wave, built from the stored study: "
        "interaction counts of each student's dyad with the class's primary teacher, observed "
        "time, questionnaire scale scores and the teacher's IAT scores. {n_models} models were "
        "fitted (families: {families}).")).format(n_models=n_models,
                                                  families=", ".join(families) or "–")]
    if "gaussian" in families:
        paragraphs.append(_("Linear mixed models (lme4 formula syntax) were estimated by REML; "
                            "tests and 95% intervals of fixed effects use Satterthwaite degrees "
                            "of freedom."))
    if "poisson" in families:
        paragraphs.append(_("Poisson mixed models of the interaction counts were estimated by "
                            "maximum likelihood (Laplace approximation) with the log of "
                            "observed hours as offset; tests and intervals are Wald z."))
    if "H3" in present or "H5" in present:
        paragraphs.append(_("Indirect effects (a × b) and the index of moderated mediation "
                            "have Monte Carlo confidence intervals (Preacher & Selig, 2012)."))
    if tested:
        paragraphs.append(Markup.escape(_(
            "P values of all {n_tests} tests were adjusted for the false discovery rate "
            "(Benjamini & Hochberg, 1995).")).format(
                n_tests=fmt.integer(tested, "study/methods/tests")))
    notes = [(model_id, text) for model_id, texts in dict(results.get("notes", {})).items()
             for text in texts]
    return {"models_table": models_table, "software_table": software_table,
            "paragraphs": paragraphs, "notes": notes}


def _appendix(results: Mapping[str, Any], *, _: Any, fmt: NumberFormatter) -> ReportTable:
    """Every estimate of the plan, every column, grouped by model."""
    frame = hypotheses.estimates_frame(results)
    numeric = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "p_fdr", "standardized",
               "ratio", "ratio_ci_low", "ratio_ci_high")
    header = ("#", _("outcome"), _("effect"), _("level"), "b", "SE", _("CI low"), _("CI high"),
              "p", _("p (FDR)"), "β", _("ratio"), _("ratio CI low"), _("ratio CI high"), "n")
    rows: list[tuple[Markup, ...]] = []
    group_rows = set()
    for model, part in frame.groupby("model", sort=False):
        group_rows.add(len(rows))
        rows.append((Markup("<code>{}</code>").format(model),) + (cell(""),) * (len(header) - 1))
        for _index, row in part.iterrows():
            i = int(row["row"])
            cells = [cell(str(i)), cell(row["outcome"]), cell(row["effect"]), cell(row["level"])]
            for column in numeric:
                key = f"estimates/{i}/{column}"
                value = row[column]
                if column.startswith("p_") and not (is_missing(value) or value >= 0.001):
                    cells.append(fmt.p(value, key))
                else:
                    cells.append(fmt.number(value, key, 4))
            cells.append(fmt.integer(row["n"], f"estimates/{i}/n"))
            rows.append(tuple(cells))
    return ReportTable(
        name="appendix_estimates", caption=_("Every estimate of the analysis plan"),
        header=header, rows=tuple(rows), data=frame.drop(columns="row"),
        group_rows=frozenset(group_rows),
        note=_("Grouped by model (see the table of models fitted); # is the row of results.json. "
               "Four decimals; p values below .001 are shown as < .001. The full-precision "
               "values are in results.json and in the CSV version of this table."))
