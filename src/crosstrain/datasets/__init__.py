"""A deterministic, realistic and messy subscription-business dataset for the labs.

``generate(seed)`` builds five raw tables (customers, plans, monthly usage, support tickets, churn
labels) with the mess real exports have; ``write_raw`` writes them as CSVs; ``clean_reference``
is the cleaning graders compare against; ``training_frame`` is one row per customer for
modelling. Learners use ``LEARNER_SEED``; graders use ``hidden_seed(secret)``. See
docs/data-card.md for every column.
"""

from .clean import clean_reference
from .data import ChurnData, generate
from .features import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, training_frame
from .files import read_raw, write_raw
from .mess import DEFAULT_MESS, NO_MESS, Mess
from .schema import LABEL, LEAK_COLUMN, SNAPSHOT_DATE, Column, Table, schema
from .seeds import LEARNER_SEED, hidden_seed

__all__ = [
    "CATEGORICAL_FEATURES",
    "DEFAULT_MESS",
    "FEATURES",
    "LABEL",
    "LEAK_COLUMN",
    "LEARNER_SEED",
    "NO_MESS",
    "NUMERIC_FEATURES",
    "SNAPSHOT_DATE",
    "ChurnData",
    "Column",
    "Mess",
    "Table",
    "clean_reference",
    "generate",
    "hidden_seed",
    "read_raw",
    "schema",
    "training_frame",
    "write_raw",
]
