"""`kg bench-corpus`: the command that writes a synthetic corpus (registered by `kg.cli`)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Write a synthetic corpus of N performance forms into the folder OUT, for benchmarks and accuracy tests:
text files in the four seed layouts (2020 target table, 2023 target declaration, 2024 Shanghai and Beijing
Chaoyang self-evaluations), 10-20 forms per file like the seeds, with the seeds' export damage (labels split
over lines, rows that lost or shifted cells, page breaks with wrapped cells, labels centred in merged cells,
truncated rows, HTML tags, full/half-width punctuation, GB18030 files, a last line without newline).

Names, units, indicator trees, targets, money and cited documents are drawn from the seed forms (data/, or
--seeds DIR); each project is followed across 2019-2024 with drifting names and funds. OUT/expected.json is
the expected extraction in the format of shared/gold/forms.json, plus per form its lineage, the damage
printed into it and the rules it breaks on purpose ("injected", ids of shared/RULES.md; about 8% of forms).

The same --forms and --seed give byte-identical output. A corpus written before into OUT is replaced; a
folder holding other files is refused."""

EPILOG = """\
examples:
  kg bench-corpus --forms 1000 --seed 1 bench/corpus/1000
  kg bench-corpus --forms 300 /tmp/corpus && kg --store /tmp/kg ingest /tmp/corpus"""


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {number}")
    return number


def add_parser(commands: Any, formatter: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Register `bench-corpus` on the `kg` sub-command parsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "bench-corpus",
        help="write a synthetic corpus with its expected extraction",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--forms", type=_positive, required=True, metavar="N", help="number of forms")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    parser.add_argument(
        "--seeds", type=Path, metavar="DIR", help="folder of seed forms (default: the repository's data/)"
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="folder to write the corpus into")
    return parser


def cmd_bench_corpus(args: argparse.Namespace) -> int:
    from kg.synth.corpus import EXPECTED_NAME, write_corpus

    try:
        corpus = write_corpus(args.out, args.forms, args.seed, args.seeds)
    except (FileExistsError, FileNotFoundError, OSError) as err:
        sys.stderr.write(f"kg bench-corpus: error: {err}\n")
        return 1
    forms = corpus.expected["forms"]
    layouts = Counter(form["layout"] for form in forms)
    injected = sum(1 for form in forms if form["injected"])
    damaged = sum(1 for form in forms if form["damage"])
    sys.stdout.write(
        f"wrote {len(corpus.files)} files with {len(forms)} forms to {args.out} "
        f"(target tables {layouts['tt']}, declarations {layouts['td']}, self-evaluations "
        f"{layouts['se']} Shanghai + {layouts['cy']} Chaoyang; {damaged} with export damage, "
        f"{injected} with an injected error)\n"
        f"expected extraction: {args.out / EXPECTED_NAME}\n"
    )
    return 0
