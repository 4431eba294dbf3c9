"""Lineages: the project-years that are one continuing project, joined with evidence.

A project is printed again every year (target table or declaration, then self-evaluation), and its name
drifts: words are added or dropped (城管执法监督考核 -> 城管执法监督考核辅助工作, 城管执法人员教育培训 ->
城管执法教育培训) or reordered (依法行政辅助服务工作 -> 依法行政辅助工作服务), while two different projects of
one unit can look alike (城管执法社会宣传 / 城管执法普法宣传). So a link between two forms is decided from
several signals, each a number in [0, 1] with a weight:

==============  ======  ================================================================================
signal          weight  value
==============  ======  ================================================================================
same_unit       gate    the two forms' responsible units are one registered unit (`kg.link.units`);
                        forms of different units are never linked by the algorithm
name            0.30    Dice coefficient of the two names' character multisets (order-insensitive),
                        characters weighted by rarity across the corpus' names (城管执法 counts little)
core_name       0.15    the names without filler words (`FILLER_WORDS`: 工作, 服务, 辅助, 经费 …):
                        weighted longest common subsequence / the shorter core (1 when words were only
                        added or dropped). Weaker than `name`: it ignores real words too
indicators      0.30    third-level indicator names shared (exactly or with bigram Dice >= 0.8), weighted
                        by rarity across the corpus (ln(1 + N/df): 长效管理机制健全性 counts little), over
                        the smaller form; only between forms of the same indicator system (TT vs TD/SE not)
funds           0.15    closeness of the yearly amounts, min/max (TT 项目当年预算, TD 年度资金申请总额, SE
                        年初预算数, else 全年预算数)
prior_year      0.30    a TT printed the year after: its 同名项目上年预算额 (and 上年预算执行数) against the
                        earlier form's yearly amount (and 全年执行数), min/max
==============  ======  ================================================================================

The confidence of a link is the weighted mean of the signals available for the pair; a pair is a
candidate when it reaches `THRESHOLD` (0.60), or `THRESHOLD_NAMES_ONLY` (0.75) when only names and funds
could be compared (a 2020 target table and a later form, without prior-year figures). In a unit with
many forms only pairs that share a name, a core name, a rare name bigram or a prior-year amount are
scored (`candidate_pairs`). Candidates are accepted best first (ties: the closer years),
merging lineages only when the merged lineage still has at most one target form (TT/TD) and one
self-evaluation per year, so a project that exists under both look-alike names is joined to its own
name and the look-alike stays apart. Two forms of one year are linked only as target form + evaluation.

Curated overrides (`kg.link.overrides`, `data/lineage-overrides.csv`) win: `add` and `confirm` links
are made first with confidence 1 (`kg:linkMethod` "added"/"confirmed"), `reject` pairs never end in
one lineage. Every form belongs to exactly one lineage (a project seen once is a lineage of one form,
confidence 1); a lineage's confidence is that of its weakest link. Lineages are `kg:Lineage`
resources linking the yearly forms (`kg:lineageMember`); `owl:sameAs` is not used across years.

Prior-year facts: the 同名项目上年预算额 / 上年预算执行数 of a target table become `kg:PriorYearFunding`
facts of the lineage for the previous year (`kg:fundingYear`), `kg:reportedBy` the later form and
pointing at the printed figure (`kg:reportedFigure`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations

from rdflib import Graph, Literal, URIRef

from kg.link.overrides import FormRef, Override
from kg.link.records import FormRecord
from kg.link.units import Unit, UnitRegistry
from kg.rdf.keys import name_key
from kg.rdf.mapping import Triple, decimal_literal, integer_literal, short_hash
from kg.rdf.namespaces import ID, KG, RDF, RDFS, bind_prefixes

WEIGHTS: dict[str, Decimal] = {
    "name": Decimal("0.30"),
    "core_name": Decimal("0.15"),
    "indicators": Decimal("0.30"),
    "funds": Decimal("0.15"),
    "prior_year": Decimal("0.30"),
}
THRESHOLD = Decimal("0.60")
# The bar for a pair with nothing but names and funds to compare (no shared indicator system, no
# prior-year figures: a 2020 target table and a later declaration): names alone mislead more often.
THRESHOLD_NAMES_ONLY = Decimal("0.75")
FILLER_WORDS = ("工作", "服务", "辅助", "经费", "项目", "专项", "资金")
FUZZY_INDICATOR = 0.8
BLOCKING_FROM = 60  # forms of one unit from which candidate pairs are blocked (`candidate_pairs`)
# A bigram in more of a unit's forms than this says little about which project (`candidate_pairs`); a
# lineage has at most two forms a year.
INFORMATIVE_BIGRAM_FORMS = 50
PRIOR_YEAR_KINDS = ("prev_year_same_name_budget", "prev_year_same_name_executed")
_CENT = Decimal("0.01")


# ----------------------------------------------------------------------------- similarity helpers


Weights = Mapping[str, float]


def char_dice(a: str, b: str, weights: Weights | None = None) -> float:
    """Dice coefficient of two strings' character multisets (1 for a reordering); with `weights`, each
    character counts its weight (default 1)."""
    if not a or not b:
        return 0.0

    def weight(char: str) -> float:
        return weights.get(char, 1.0) if weights is not None else 1.0

    common = sum(count * weight(char) for char, count in (Counter(a) & Counter(b)).items())
    return 2 * common / (sum(map(weight, a)) + sum(map(weight, b)))


def containment(a: str, b: str, weights: Weights | None = None) -> float:
    """How much of the shorter string is a subsequence of the other (1 when words were only added or
    dropped): the weight of their longest common subsequence over the shorter string's weight."""
    if not a or not b:
        return 0.0

    def weight(char: str) -> float:
        return weights.get(char, 1.0) if weights is not None else 1.0

    previous = [0.0] * (len(b) + 1)
    for char in a:
        current = [0.0]
        for j, other in enumerate(b):
            best = max(previous[j + 1], current[j])
            if char == other:
                best = max(best, previous[j] + weight(char))
            current.append(best)
        previous = current
    return previous[-1] / min(sum(map(weight, a)), sum(map(weight, b)))


def core_name(name: str) -> str:
    """The name key without filler words."""
    core = name_key(name)
    for word in FILLER_WORDS:
        core = core.replace(word, "")
    return core


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) if len(text) > 1 else frozenset({text})


def _bigram_dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def closeness(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """min/max of two amounts; None when neither is a positive amount."""
    if a is None or b is None or (a <= 0 and b <= 0):
        return None
    if a <= 0 or b <= 0:
        return Decimal(0)
    return min(a, b) / max(a, b)


def yearly_amount(form: FormRecord) -> Decimal | None:
    """The amount a form plans or reports for its year (see the module documentation)."""
    kinds = {
        "target_table": ("current_year_budget",),
        "target_declaration": ("annual_request_total",),
        "self_evaluation": ("initial_budget", "full_year_budget"),
    }.get(form.form_type, ())
    for kind in kinds:
        figure = form.figure(kind)
        if figure is not None and figure.amount_yuan > 0:
            return figure.amount_yuan
    return None


def _rounded(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _is_target(form: FormRecord) -> bool:
    return form.form_type != "self_evaluation"


def _indicator_system(form: FormRecord) -> str:
    return "target_table" if form.form_type == "target_table" else "national"


# ----------------------------------------------------------------------------- signals and scores


@dataclass(frozen=True)
class Signal:
    """One piece of evidence for a link: its value in [0, 1] (None: not available), weight, detail."""

    code: str
    value: Decimal | None
    weight: Decimal
    detail: str


@dataclass
class Candidate:
    earlier: FormRecord
    later: FormRecord
    signals: list[Signal]

    @property
    def score(self) -> Decimal:
        available = [s for s in self.signals if s.value is not None and s.weight > 0]
        total = sum((s.weight for s in available), Decimal(0))
        if not total:
            return Decimal(0)
        return _rounded(sum((s.weight * (s.value or 0) for s in available), Decimal(0)) / total)

    @property
    def gap(self) -> int:
        return self.later.year - self.earlier.year

    @property
    def threshold(self) -> Decimal:
        """THRESHOLD, or THRESHOLD_NAMES_ONLY when neither indicators nor prior-year figures were compared."""
        compared = {s.code for s in self.signals if s.value is not None}
        return THRESHOLD if compared & {"indicators", "prior_year"} else THRESHOLD_NAMES_ONLY

    @property
    def accepted(self) -> bool:
        return self.score >= self.threshold


class Scorer:
    """Computes the signals of form pairs; indicator rarity is taken over all the forms given."""

    def __init__(self, forms: Sequence[FormRecord], units: UnitRegistry) -> None:
        self.units = units
        self._indicators: dict[str, list[str]] = {
            form.iri: list(dict.fromkeys(name_key(i.l3) for i in form.indicators if i.l3.strip()))
            for form in forms
        }
        frequency: Counter[str] = Counter()
        for keys in self._indicators.values():
            frequency.update(set(keys))
        total = max(len(forms), 1)
        self._idf = {key: math.log(1 + total / count) for key, count in frequency.items()}
        self._bigrams = {key: _bigrams(key) for key in frequency}
        characters: Counter[str] = Counter()
        for form in forms:
            characters.update(set(name_key(form.title)))
        self.char_weights = {char: math.log(1 + total / count) for char, count in characters.items()}
        self._units = {form.iri: units.unit(form.responsible_unit) for form in forms}
        self._names: dict[tuple[str, str], tuple[Decimal, Decimal | None]] = {}

    def _unit(self, form: FormRecord) -> Unit | None:
        if form.iri not in self._units:
            self._units[form.iri] = self.units.unit(form.responsible_unit)
        return self._units[form.iri]

    def _name_signals(self, a: str, b: str) -> tuple[Decimal, Decimal | None]:
        """(name, core_name) values of two titles (cached: a project's name repeats across years)."""
        if (a, b) not in self._names:
            name = _rounded(char_dice(name_key(a), name_key(b), self.char_weights))
            core_a, core_b = core_name(a), core_name(b)
            core = None
            if core_a and core_b:
                core = (
                    Decimal(1)
                    if core_a == core_b
                    else _rounded(containment(core_a, core_b, self.char_weights))
                )
            self._names[a, b] = (name, core)
        return self._names[a, b]

    def unit_signal(self, a: FormRecord, b: FormRecord) -> Signal:
        unit_a, unit_b = self._unit(a), self._unit(b)
        same = unit_a is not None and unit_a is unit_b
        detail = (
            unit_a.name if same and unit_a is not None else f"{a.responsible_unit} / {b.responsible_unit}"
        )
        return Signal("same_unit", Decimal(1 if same else 0), Decimal(0), detail)

    def candidate(self, earlier: FormRecord, later: FormRecord, *, full: bool = False) -> Candidate:
        """The pair's signals; unless `full`, the costly indicator signal is skipped (value None) when
        the pair cannot reach the threshold even with a perfect indicator match."""
        signals = [self.unit_signal(earlier, later)]
        name, core = self._name_signals(earlier.title, later.title)
        signals.append(Signal("name", name, WEIGHTS["name"], f"{earlier.title} ~ {later.title}"))
        core_detail = f"{core_name(earlier.title)} ~ {core_name(later.title)}"
        signals.append(Signal("core_name", core, WEIGHTS["core_name"], core_detail))
        amount_a, amount_b = yearly_amount(earlier), yearly_amount(later)
        funds = closeness(amount_a, amount_b)
        signals.append(
            Signal(
                "funds",
                None if funds is None else _rounded(funds),
                WEIGHTS["funds"],
                f"{_yuan(amount_a)} ~ {_yuan(amount_b)} 元",
            )
        )
        prior = self._prior_year(earlier, later)
        if prior is not None:
            signals.append(prior)
        candidate = Candidate(earlier, later, signals)
        if _indicator_system(earlier) == _indicator_system(later):
            optimistic = Candidate(
                earlier, later, [*signals, Signal("indicators", Decimal(1), WEIGHTS["indicators"], "")]
            )
            if full or optimistic.score >= THRESHOLD:
                signals.append(self._indicator_signal(earlier, later))
        return candidate

    def _prior_year(self, earlier: FormRecord, later: FormRecord) -> Signal | None:
        if later.year - earlier.year != 1:
            return None
        budget = later.figure("prev_year_same_name_budget")
        if budget is None:
            return None
        values = [closeness(budget.amount_yuan, yearly_amount(earlier))]
        executed = later.figure("prev_year_same_name_executed")
        earlier_executed = earlier.figure("executed")
        if executed is not None and earlier_executed is not None:
            values.append(closeness(executed.amount_yuan, earlier_executed.amount_yuan))
        known = [v for v in values if v is not None]
        if not known:
            return None
        detail = f"上年预算额 {_yuan(budget.amount_yuan)} ~ {_yuan(yearly_amount(earlier))} 元"
        return Signal("prior_year", _rounded(sum(known) / len(known)), WEIGHTS["prior_year"], detail)

    def _indicator_signal(self, a: FormRecord, b: FormRecord) -> Signal:
        keys_a, keys_b = self._indicators.get(a.iri, []), self._indicators.get(b.iri, [])
        if not keys_a or not keys_b:
            return Signal("indicators", None, WEIGHTS["indicators"], "no indicators")
        if len(keys_a) > len(keys_b):
            keys_a, keys_b = keys_b, keys_a
        unmatched = set(keys_b)
        matched = [key for key in keys_a if key in unmatched]
        unmatched.difference_update(matched)
        postings: dict[str, list[str]] = {}
        for other in sorted(unmatched):
            for gram in self._bigrams[other]:
                postings.setdefault(gram, []).append(other)
        for key in keys_a:
            if key in matched or not unmatched:
                continue
            grams = self._bigrams[key]
            shared = Counter(o for gram in grams for o in postings.get(gram, ()) if o in unmatched)
            best: tuple[float, str] | None = None
            for other, common in shared.items():
                dice = 2 * common / (len(grams) + len(self._bigrams[other]))
                if dice >= FUZZY_INDICATOR and (best is None or (dice, other) > best):
                    best = (dice, other)
            if best is not None:
                unmatched.discard(best[1])
                matched.append(key)
        weight_a = sum(self._idf[k] for k in keys_a)
        weight_b = sum(self._idf[k] for k in keys_b)
        value = sum(self._idf[k] for k in matched) / min(weight_a, weight_b)
        detail = f"{len(matched)} of {len(keys_a)} / {len(keys_b)} indicators shared"
        return Signal("indicators", _rounded(min(value, 1.0)), WEIGHTS["indicators"], detail)


def _yuan(amount: Decimal | None) -> str:
    return "-" if amount is None else format(amount.normalize(), "f")


def candidate_pairs(group: Sequence[FormRecord]) -> Iterable[tuple[FormRecord, FormRecord]]:
    """The pairs of one unit's forms worth scoring. Up to `BLOCKING_FROM` forms: every pair. Beyond, only
    pairs that print the same name or the same core name, whose core names share an informative character
    bigram (one that at most `INFORMATIVE_BIGRAM_FORMS` of the unit's forms contain: not 城管/执法), or
    where a target table's 上年预算额 equals the yearly amount of a form of the previous year. A pair with
    none of these has little in its names to go on and could hardly reach the threshold.

    The bigram bound is a number of forms, not a share of the unit: with 10 % of a unit of 4,300 forms a
    bigram block held 430 forms, the pairs grew with the square of the corpus (810,000 scored at 10,000
    synthetic forms, 125 s), and the extra pairs only chained distinct projects (pair precision 0.83
    against the generator's lineages, 0.91 with the bound; recall 0.976 and 0.974)."""
    if len(group) <= BLOCKING_FROM:
        yield from combinations(group, 2)
        return
    index: dict[tuple[str, str], list[int]] = {}
    tokens = [_bigrams(core_name(form.title) or name_key(form.title)) for form in group]
    frequency: Counter[str] = Counter(token for form_tokens in tokens for token in form_tokens)
    for position, form in enumerate(group):
        index.setdefault(("name", name_key(form.title)), []).append(position)
        index.setdefault(("core", core_name(form.title)), []).append(position)
        for token in tokens[position]:
            if frequency[token] <= INFORMATIVE_BIGRAM_FORMS:
                index.setdefault(("bigram", token), []).append(position)
        amount = yearly_amount(form)
        if amount is not None:
            index.setdefault(("amount", f"{form.year}:{amount}"), []).append(position)
    pairs: set[tuple[int, int]] = set()
    for (kind, _), members in index.items():
        if kind != "amount":
            pairs.update(combinations(members, 2))
    for position, form in enumerate(group):
        prior = form.figure("prev_year_same_name_budget")
        if prior is not None:
            for other in index.get(("amount", f"{form.year - 1}:{prior.amount_yuan}"), []):
                pairs.add((min(position, other), max(position, other)))
    for a, b in sorted(pairs):
        yield group[a], group[b]


def may_link(a: FormRecord, b: FormRecord) -> bool:
    """Forms of different years, or of one year as target form + self-evaluation."""
    return a.year != b.year or _is_target(a) != _is_target(b)


def ordered(a: FormRecord, b: FormRecord) -> tuple[FormRecord, FormRecord]:
    return (a, b) if a.sort_key <= b.sort_key else (b, a)


# ----------------------------------------------------------------------------- lineages


@dataclass
class Link:
    """An accepted link between two forms of one lineage."""

    candidate: Candidate
    method: str  # algorithm | confirmed | added
    comment: str = ""
    source: str = ""

    @property
    def confidence(self) -> Decimal:
        return Decimal(1) if self.method != "algorithm" else self.candidate.score

    @property
    def iri(self) -> URIRef:
        return ID[f"lineage-link/{short_hash(self.candidate.earlier.iri + '|' + self.candidate.later.iri)}"]


@dataclass
class Lineage:
    members: list[FormRecord]
    links: list[Link] = field(default_factory=list)

    @property
    def iri(self) -> URIRef:
        return ID[f"lineage/{short_hash(self.members[0].iri)}"]

    @property
    def label(self) -> str:
        return self.members[-1].title

    @property
    def confidence(self) -> Decimal:
        return min((link.confidence for link in self.links), default=Decimal(1))


@dataclass
class LineageResult:
    lineages: list[Lineage]
    candidates: list[Candidate]  # every scored pair, best first
    warnings: list[str] = field(default_factory=list)


class _Clusters:
    """Union-find over forms with the one-target-and-one-evaluation-per-year rule and cannot-links."""

    def __init__(self, forms: Sequence[FormRecord]) -> None:
        self.parent = {form.iri: form.iri for form in forms}
        self.members = {form.iri: [form] for form in forms}
        self.cannot: set[frozenset[str]] = set()

    def find(self, iri: str) -> str:
        while self.parent[iri] != iri:
            self.parent[iri] = self.parent[self.parent[iri]]
            iri = self.parent[iri]
        return iri

    def conflict(self, a: str, b: str) -> str | None:
        """Why the clusters of a and b cannot merge (None: they can)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return "already in one lineage"
        slots_a = {(f.year, _is_target(f)) for f in self.members[ra]}
        clash = [f for f in self.members[rb] if (f.year, _is_target(f)) in slots_a]
        if clash:
            what = "target form" if _is_target(clash[0]) else "evaluation"
            return f"the lineage already has a {clash[0].year} {what}"
        if self.rejected(a, b):
            return "rejected by an override"
        return None

    def rejected(self, a: str, b: str) -> bool:
        """Whether merging the clusters of a and b would put a rejected pair into one lineage."""
        iris_a = {f.iri for f in self.members[self.find(a)]}
        iris_b = {f.iri for f in self.members[self.find(b)]}
        return any(len(pair & iris_a) == 1 and len(pair & iris_b) == 1 for pair in self.cannot)

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.members[ra].extend(self.members.pop(rb))


NO_MATCH = "no loaded form matches"


def _unit_key(units: UnitRegistry, form: FormRecord) -> str:
    unit = units.unit(form.responsible_unit)
    return unit.key if unit is not None else ""


def resolve(ref: FormRef, forms: Sequence[FormRecord], units: UnitRegistry) -> list[FormRecord]:
    """The forms an override reference names."""
    if ref.file is not None:
        return [f for f in forms if f.file == ref.file and f.index == ref.index]
    key = name_key(ref.name or "")
    unit = units.unit(ref.unit) if ref.unit else None
    return [
        f
        for f in forms
        if name_key(f.title) == key
        and (ref.year is None or f.year == ref.year)
        and (ref.unit is None or (unit is not None and units.unit(f.responsible_unit) is unit))
    ]


def build_lineages(
    forms: Sequence[FormRecord], units: UnitRegistry, overrides: Iterable[Override] = ()
) -> LineageResult:
    """Group the forms into lineages (see the module documentation)."""
    forms = sorted(forms, key=lambda f: f.sort_key)
    scorer = Scorer(forms, units)
    clusters = _Clusters(forms)
    accepted: list[Link] = []
    warnings: list[str] = []
    forced: list[tuple[Override, FormRecord, FormRecord]] = []
    for override in overrides:
        side_a, side_b = resolve(override.a, forms, units), resolve(override.b, forms, units)
        where = f"{override.source}:{override.line}"
        if not side_a or not side_b:
            missing = override.a.text if not side_a else override.b.text
            warnings.append(f"{where}: {override.action} ignored: {NO_MATCH} {missing!r}")
            continue
        ambiguous = [
            ref.text
            for ref, side in ((override.a, side_a), (override.b, side_b))
            if ref.file is None and len({_unit_key(units, f) for f in side}) > 1
        ]
        if ambiguous:
            warnings.append(
                f"{where}: {override.action} ignored: {ambiguous[0]!r} names forms of several units "
                f"(add @UNIT, or use FILE#INDEX)"
            )
            continue
        for a in side_a:
            for b in side_b:
                if a.iri == b.iri:
                    continue
                if override.action == "reject":
                    clusters.cannot.add(frozenset((a.iri, b.iri)))
                else:
                    forced.append((override, a, b))
    for override, a, b in forced:
        earlier, later = ordered(a, b)
        if clusters.find(a.iri) == clusters.find(b.iri):
            continue
        if clusters.rejected(a.iri, b.iri):
            warnings.append(
                f"{override.source}:{override.line}: {override.action} {earlier} - {later} ignored: "
                f"it would join forms that a reject keeps apart"
            )
            continue
        clusters.union(a.iri, b.iri)
        method = "confirmed" if override.action == "confirm" else "added"
        source = f"{override.source}:{override.line}"
        accepted.append(Link(scorer.candidate(earlier, later, full=True), method, override.comment, source))
    by_unit: dict[str, list[FormRecord]] = {}
    for form in forms:
        unit = units.unit(form.responsible_unit)
        by_unit.setdefault(unit.key if unit is not None else "", []).append(form)
    candidates = [
        scorer.candidate(*ordered(a, b))
        for group in by_unit.values()
        for a, b in candidate_pairs(group)
        if may_link(a, b)
    ]
    candidates.sort(key=lambda c: (-c.score, c.gap, c.earlier.sort_key, c.later.sort_key))
    for candidate in candidates:
        if candidate.score < THRESHOLD:
            break
        if candidate.accepted and clusters.conflict(candidate.earlier.iri, candidate.later.iri) is None:
            clusters.union(candidate.earlier.iri, candidate.later.iri)
            accepted.append(Link(candidate, "algorithm"))
    links_of: dict[str, list[Link]] = {}
    for link in sorted(
        accepted, key=lambda link: (link.candidate.earlier.sort_key, link.candidate.later.sort_key)
    ):
        links_of.setdefault(clusters.find(link.candidate.earlier.iri), []).append(link)
    lineages = [
        Lineage(sorted(members, key=lambda f: f.sort_key), links_of.get(root, []))
        for root, members in clusters.members.items()
    ]
    lineages.sort(key=lambda lineage: lineage.members[0].sort_key)
    return LineageResult(lineages, candidates, warnings)


# ----------------------------------------------------------------------------- RDF


def lineages_graph(result: LineageResult, units: UnitRegistry) -> Graph:
    """The lineages as RDF (vocabulary: ontology/kg-lineage.ttl)."""
    graph = bind_prefixes(Graph())
    for triple in lineage_triples(result, units):
        graph.add(triple)
    return graph


def lineage_triples(result: LineageResult, units: UnitRegistry) -> Iterator[Triple]:
    """The triples of `lineages_graph`, repeats included (the store counts them once). `kg.link.link_store`
    stores them without building the rdflib Graph, which at 10,000 forms (half a million triples) took
    ten seconds."""
    for lineage in result.lineages:
        s = lineage.iri
        yield s, RDF.type, KG.Lineage
        yield s, RDFS.label, Literal(lineage.label, lang="zh")
        yield s, KG.confidence, decimal_literal(lineage.confidence)
        for earlier in lineage.members:
            for later in lineage.members:
                if later.year > earlier.year:
                    yield URIRef(earlier.iri), KG.continuedBy, URIRef(later.iri)
        for form in lineage.members:
            yield from _member_triples(s, form, units)
        for link in lineage.links:
            yield from _link_triples(s, link)
    yield from _sort_order_triples(result.lineages)


def _member_triples(lineage: URIRef, form: FormRecord, units: UnitRegistry) -> Iterator[Triple]:
    yield lineage, KG.lineageMember, URIRef(form.iri)
    yield lineage, KG.lookupKey, Literal(name_key(form.title))
    unit = units.unit(form.responsible_unit)
    if unit is not None:
        yield lineage, KG.lineageUnit, unit.iri
    for indicator in form.indicators:
        if indicator.l3.strip():
            yield URIRef(indicator.iri), KG.indicatorKey, Literal(name_key(indicator.l3))
    for kind in PRIOR_YEAR_KINDS:
        figure = form.figure(kind)
        if figure is None:
            continue
        fact = ID[f"prior-year/{short_hash(figure.iri)}"]
        yield lineage, KG.hasPriorYearFunding, fact
        yield fact, RDF.type, KG.PriorYearFunding
        yield fact, KG.fundingYear, integer_literal(form.year - 1)
        yield fact, KG.reportedBy, URIRef(form.iri)
        yield fact, KG.reportedFigure, URIRef(figure.iri)


def _sort_order_triples(lineages: Sequence[Lineage]) -> Iterator[Triple]:
    """kg:sortOrder of every form (by file, then position in it) and lineage (by label, then IRI): the
    named queries sort on these integers rather than on long strings (ontology/kg-lineage.ttl)."""
    members = (form for lineage in lineages for form in lineage.members)
    forms = sorted(members, key=lambda form: (form.file, form.index))
    for rank, form in enumerate(forms):
        yield URIRef(form.iri), KG.sortOrder, integer_literal(rank)
    for rank, lineage in enumerate(sorted(lineages, key=lambda item: (item.label, str(item.iri)))):
        yield lineage.iri, KG.sortOrder, integer_literal(rank)


def _link_triples(lineage: URIRef, link: Link) -> Iterator[Triple]:
    s = link.iri
    yield lineage, KG.hasLink, s
    yield s, RDF.type, KG.LineageLink
    yield s, KG.earlierForm, URIRef(link.candidate.earlier.iri)
    yield s, KG.laterForm, URIRef(link.candidate.later.iri)
    yield s, KG.confidence, decimal_literal(link.confidence)
    yield s, KG.linkMethod, Literal(link.method)
    if link.comment:
        yield s, KG.overrideComment, Literal(link.comment)
    if link.source:
        yield s, KG.overrideSource, Literal(link.source)
    for signal in link.candidate.signals:
        evidence = URIRef(f"{s}/evidence/{signal.code}")
        yield s, KG.hasEvidence, evidence
        yield evidence, RDF.type, KG.LinkEvidence
        yield evidence, KG.signal, Literal(signal.code)
        yield evidence, KG.signalWeight, decimal_literal(signal.weight)
        if signal.value is not None:
            yield evidence, KG.signalValue, decimal_literal(signal.value)
        if signal.detail:
            yield evidence, KG.signalDetail, Literal(signal.detail)
