"""Readers and writers, one module per format.

Imports: rosters from CSV, Excel and SPSS with English or Dutch headers (:func:`read_roster`,
:class:`ColumnMapping`), BORIS exports and projects (:func:`read_boris`, :class:`BorisMapping`,
:func:`boris_interaction_events`), interaction events as CSV (:func:`read_interaction_events`),
questionnaire responses, wide or long (:func:`read_responses`), and IAT trials
(:func:`read_iat_trials`). Exports: SPSS, Stata, Excel, CSV and Parquet with labels, each with a
reader that gives the exported table back; Mplus data and inputs (:func:`write_mplus`), R data
and script (:func:`write_r`) and BORIS tabular events (:func:`write_boris_tabular`). Readers
return DataFrames; storing them is :mod:`classdyad.store.importing`'s work.
"""

from classdyad.io.boris import BorisMapping, boris_interaction_events, read_boris
from classdyad.io.boris_export import boris_export_mapping, write_boris_tabular
from classdyad.io.delimited import read_csv, write_csv
from classdyad.io.events import read_interaction_events, write_interaction_events
from classdyad.io.excel import read_excel, write_excel
from classdyad.io.mapping import ColumnMapping, read_column_mapping
from classdyad.io.mplus import check_mplus_input, write_mplus
from classdyad.io.parquet import read_parquet, write_parquet
from classdyad.io.questionnaires import read_iat_trials, read_responses
from classdyad.io.r_script import write_r
from classdyad.io.regression_model import RegressionModel
from classdyad.io.roster import ROSTER_COLUMNS, read_roster
from classdyad.io.spss import read_spss, write_spss
from classdyad.io.stata import read_stata, write_stata
from classdyad.io.tabular import read_table

__all__ = [
    "ROSTER_COLUMNS",
    "BorisMapping",
    "ColumnMapping",
    "RegressionModel",
    "boris_export_mapping",
    "boris_interaction_events",
    "check_mplus_input",
    "read_boris",
    "read_column_mapping",
    "read_csv",
    "read_excel",
    "read_iat_trials",
    "read_interaction_events",
    "read_parquet",
    "read_responses",
    "read_roster",
    "read_spss",
    "read_stata",
    "read_table",
    "write_boris_tabular",
    "write_csv",
    "write_excel",
    "write_interaction_events",
    "write_mplus",
    "write_parquet",
    "write_r",
    "write_spss",
    "write_stata",
]
