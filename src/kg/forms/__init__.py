"""Parsers: from a form export's bytes to the typed model (`kg.model.Form`).

`parse_source` is the one entry point; layout detection and table reconstruction live in the
modules beside it (rows → fields / indicators → reader).
"""

from kg.forms.reader import parse_source, parse_text

__all__ = ["parse_source", "parse_text"]
