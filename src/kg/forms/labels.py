"""First- and second-level labels of an indicator table, read by vocabulary.

Exports break merged label cells in several ways: a label split over two rows (``满意 度指`` ... ``标``),
printed in the neighbouring column, printed only once for a group (carry it down), or printed in the
vertical middle of its merged cell (rows above it belong to it too). This module turns the label cells
of each row into `LabelSlot`s and then gives every row its first and second level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.forms.text import normalize_label
from kg.forms.vocabulary import LEVEL1_NAMES, LEVEL2_PARENT, TABLE_CAPTIONS, TARGET_TABLE_LEVEL1

CAPTION = 0  # level of a caption such as 绩效指标: recognised, then ignored


@dataclass(eq=False)
class LabelSlot:
    """One printed label; a fragment is completed in place when its tail turns up later."""

    text: str
    level: int
    column: int
    complete: bool = True
    inferred: bool = False  # derived from the second level's parent, not printed


@dataclass
class LabelScheme:
    """Which names are labels. The 2020 target table has an open second level (`open_level2`)."""

    level1: frozenset[str]
    level2_parent: dict[str, str]
    open_level2: bool = False

    @property
    def words(self) -> dict[str, int]:
        words = {w: 2 for w in self.level2_parent}
        words.update({w: 1 for w in self.level1 if w not in self.level2_parent})
        words.update({w: CAPTION for w in TABLE_CAPTIONS})
        return words


NATIONAL_SCHEME = LabelScheme(LEVEL1_NAMES, LEVEL2_PARENT)
TARGET_TABLE_SCHEME = LabelScheme(TARGET_TABLE_LEVEL1, {}, open_level2=True)


def join_fragments(head: str, tail: str, words: Sequence[str] | dict[str, int]) -> str | None:
    """Join a label fragment and its tail into a known word, allowing a repeated character
    at the seam ('可持续' + '续影响指标')."""
    if head + tail in words:
        return head + tail
    for overlap in range(1, min(len(head), len(tail))):
        if head.endswith(tail[:overlap]) and head + tail[overlap:] in words:
            return head + tail[overlap:]
    return None


def _fragment_level(text: str, words: dict[str, int]) -> int | None:
    """Level of a proper prefix of known words, or None when it is no label fragment."""
    levels = {level for word, level in words.items() if word.startswith(text) and word != text}
    if not levels or len(text) < 2:
        return None
    return max(levels)


@dataclass
class RowLabels:
    """The labels printed on one row."""

    level1: LabelSlot | None = None
    level2: LabelSlot | None = None
    unknown: list[str] = field(default_factory=list)


class LabelReader:
    """Reads label cells row by row, keeping fragments open until their tail appears."""

    def __init__(self, scheme: LabelScheme) -> None:
        self.scheme = scheme
        self.words = scheme.words
        self.pending: list[LabelSlot] = []

    def is_label(self, text: str) -> bool:
        """An exact label or caption word (used to tell labels from a third-level name)."""
        return normalize_label(text) in self.words

    def read(self, cells: Sequence[tuple[int, str]]) -> RowLabels:
        labels = RowLabels()
        texts = [(column, normalize_label(text)) for column, text in cells]
        for position, (column, text) in enumerate(texts):
            slot = self._complete_pending(text, column) or self._new_slot(text, column, texts[position + 1 :])
            if slot is None:
                labels.unknown.append(text)
            elif slot.level == 1:
                labels.level1 = slot
            elif slot.level == 2:
                labels.level2 = slot
        return labels

    def _complete_pending(self, text: str, column: int) -> LabelSlot | None:
        for slot in sorted(self.pending, key=lambda s: abs(s.column - column)):
            joined = join_fragments(slot.text, text, self.words)
            if joined and (text not in self.words or slot.column == column):
                slot.text, slot.complete = joined, True
                self.pending.remove(slot)
                return slot
        return None

    def _new_slot(self, text: str, column: int, rest: Sequence[tuple[int, str]]) -> LabelSlot | None:
        level = self._exact_level(text, rest)
        if level is not None:
            self.pending = [s for s in self.pending if s.level != level]
            return LabelSlot(text, level, column)
        if self.scheme.open_level2:
            # Open second level: a known first-level name, or a first-column label with another beside it.
            first = text in self.scheme.level1 or (column == 0 and len(rest) >= 1)
            return LabelSlot(text, 1 if first else 2, column)
        fragment_level = _fragment_level(text, self.words)
        if fragment_level is None:
            return None
        slot = LabelSlot(text, fragment_level, column, complete=False)
        self.pending.append(slot)
        return slot

    def _exact_level(self, text: str, rest: Sequence[tuple[int, str]]) -> int | None:
        if text not in self.words:
            return None
        if text in self.scheme.level1 and text in self.scheme.level2_parent:
            # 成本指标 is a first level (2021+) when a second-level label follows it on the row.
            return 1 if any(t in self.scheme.level2_parent for _, t in rest) else 2
        return self.words[text]


def assign_levels(rows: Sequence[RowLabels], scheme: LabelScheme) -> list[tuple[str | None, str | None]]:
    """(level 1, level 2) for every row, from the labels printed on the rows."""
    level2 = _assign_level2(rows)
    level1: list[LabelSlot | None] = []
    current: LabelSlot | None = None
    for index, row in enumerate(rows):
        l2 = level2[index]
        changed = index == 0 or l2 is not level2[index - 1]
        if row.level1 is not None:
            current = row.level1
        elif changed and l2 is not None and l2.complete:
            parent = scheme.level2_parent.get(l2.text)
            if parent and (current is None or current.text != parent):
                current = LabelSlot(parent, 1, l2.column, inferred=True)
        level1.append(current)
    first_l1 = next((slot for slot in level1 if slot is not None), None)
    return [(_text(l1 or first_l1), _text(l2)) for l1, l2 in zip(level1, level2, strict=True)]


def _text(slot: LabelSlot | None) -> str | None:
    return slot.text if slot is not None else None


def _assign_level2(rows: Sequence[RowLabels]) -> list[LabelSlot | None]:
    """Carry second-level labels down; when the table opens with two or more unlabelled rows the
    labels are vertically centred in their merged cells, so rows above a label belong to it."""
    starts = _label_starts(rows)
    if not starts:
        return [None] * len(rows)
    leading = starts[0][0]
    if leading < 2:
        result: list[LabelSlot | None] = []
        current = starts[0][1]
        for row in rows:
            current = row.level2 or current
            result.append(current)
        return result
    return _centred_groups(starts, len(rows))


def _label_starts(rows: Sequence[RowLabels]) -> list[tuple[int, LabelSlot]]:
    starts: list[tuple[int, LabelSlot]] = []
    for index, row in enumerate(rows):
        if row.level2 is not None and (not starts or starts[-1][1] is not row.level2):
            starts.append((index, row.level2))
    return starts


def _centred_groups(starts: Sequence[tuple[int, LabelSlot]], count: int) -> list[LabelSlot | None]:
    """A label at row m with its group starting at row s spans rows s .. s + 2(m - s), up to the
    next label; a label at its group's first row spans down to the next label (carry-down)."""
    result: list[LabelSlot | None] = [None] * count
    group_start = 0
    for number, (middle, slot) in enumerate(starts):
        next_label = starts[number + 1][0] if number + 1 < len(starts) else count
        end = next_label - 1
        if middle > group_start:
            end = min(group_start + 2 * (middle - group_start), end)
        for index in range(group_start, end + 1):
            result[index] = slot
        group_start = end + 1
    return result
