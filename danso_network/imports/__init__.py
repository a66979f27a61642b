"""Bringing a province's own files in (issue #12): the reading, checking and staging every
import shares. Each feature keeps its own import (``units`` hamlets and facilities,
``collaborators`` the roster, ``auth`` accounts) and builds it from these parts:

- :mod:`.reading` — ``read_table(file, fields)``: XLSX/XLS/ODS (python-calamine) or CSV into
  rows keyed by field, the header row found under any title block, clear refusals;
- :mod:`.cells` — each cell to the value its field needs (bounded numbers, real dates, yes/no,
  codes, choices) or a Vietnamese reason;
- :mod:`.problems` — the problems by sheet, row and column, the dry run's counts, and the rule
  "validate everything, then write all or nothing";
- :mod:`.staging` — the uploaded file kept between the dry run and the confirmation.
"""
