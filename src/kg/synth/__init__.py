"""Synthetic corpora in the seed layouts, with their expected extraction (`kg bench-corpus`).

`build_corpus(forms, seed)` draws projects, units, indicator trees, targets, money and cited documents from
pools built out of the seed forms (`kg.synth.pools`), follows each project across the fiscal years
2019–2024 (`kg.synth.plan`), prints every form in one of the four seed layouts with the seeds' export
damage (`kg.synth.render`) and groups them into files like the seeds, with `expected.json` in the format
of shared/gold/forms.json (`kg.synth.corpus`). The same `forms` and `seed` give byte-identical output.
"""

from kg.synth.corpus import EXPECTED_NAME, Corpus, CorpusFile, build_corpus, write_corpus
from kg.synth.render import FILE_PATTERNS, PATTERNS

__all__ = [
    "EXPECTED_NAME",
    "FILE_PATTERNS",
    "PATTERNS",
    "Corpus",
    "CorpusFile",
    "build_corpus",
    "write_corpus",
]
