"""The bulk path of `kg ingest` (files new to an Oxigraph store, spooled and loaded with one
`bulk_load`): it builds, quad for quad, the store the per-file transactions build (only the catalog's
ingest times differ), and a load that fails leaves the store exactly as it was."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

import kg.store.oxigraph as oxigraph_module
from kg.ingest import IngestReport, expand_paths, file_to_nquads, file_to_quads, ingest_paths
from kg.store import CATALOG, CATALOG_GRAPH, OxigraphStore, StoreError
from kg.store.oxigraph import NQuadsTerms, triples_to_quads
from kg.synth import write_corpus

DATA = Path(__file__).resolve().parents[1] / "data"
SEEDS = sorted(DATA.glob("*.txt"))
INGESTED_AT = ox.NamedNode(str(CATALOG.ingestedAt))
CATALOG_NODE = ox.NamedNode(str(CATALOG_GRAPH))
OLD_DATA = "PREFIX ex: <http://example.org/> INSERT DATA { GRAPH ex:old { ex:x ex:p 1 } }"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated corpus (`kg bench-corpus`) with two files that do not parse."""
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder, 40, 7)
    (folder / "zz_empty.txt").write_bytes(b"")
    (folder / "zz_binary.txt").write_bytes(b"\x00\x01\x02 not a form")
    return folder


def dataset(store: OxigraphStore, *, with_times: bool = False) -> list[str]:
    """Every quad: form graphs, catalog and default graph (without the ingest times unless asked)."""
    return sorted(str(q) for q in store._db if with_times or q.predicate != INGESTED_AT)


def outcomes(report: IngestReport) -> list[tuple[str, str, int, int, str | None, str | None, str]]:
    return [(str(r.path), r.file, r.forms, r.triples, r.error, r.sha256, r.status) for r in report.results]


def ingest(paths: Sequence[Path], store: OxigraphStore, **options: Any) -> tuple[IngestReport, list[str]]:
    notes: list[str] = []
    return ingest_paths(paths, store, notify=notes.append, **options), notes


def assert_store_invariants(store: OxigraphStore) -> None:
    """The default graph is the set-merge of the form graphs; one ingest time per catalogued file."""
    merged = {
        (q.subject, q.predicate, q.object)
        for q in store._db
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name != CATALOG_NODE
    }
    default = {
        (q.subject, q.predicate, q.object)
        for q in store._db.quads_for_pattern(None, None, None, ox.DefaultGraph())
    }
    assert default == merged
    assert store.count_default_graph() == len(merged)
    times = list(store._db.quads_for_pattern(None, INGESTED_AT, None, CATALOG_NODE))
    assert len(times) == len({q.subject for q in times}) == len(store.files())


def leftovers(store_dir: Path) -> list[str]:
    """Spool, staging or retired folders left beside the store."""
    return sorted(p.name for p in store_dir.parent.iterdir() if p.name.startswith(f".{store_dir.name}."))


@pytest.mark.parametrize(("source", "workers"), [("seeds", 1), ("corpus", 2)])
def test_bulk_path_builds_the_store_the_per_file_path_builds(
    source: str, workers: int, corpus: Path, tmp_path: Path
) -> None:
    paths = SEEDS if source == "seeds" else [corpus]
    with OxigraphStore(tmp_path / "per-file") as one, OxigraphStore(tmp_path / "bulk") as two:
        per_file, per_file_notes = ingest(paths, one, bulk=False)
        bulk, notes = ingest(paths, two, workers=workers)
        assert per_file_notes == []
        loaded = len(bulk.loaded)
        assert notes[0].startswith("loading ") and notes[0].endswith(
            f" quads of {loaded} files into the store …"
        )
        assert notes[1].startswith(f"loaded {loaded} files in ")
        assert outcomes(bulk) == outcomes(per_file)
        assert len(bulk.failed) == (0 if source == "seeds" else 2)
        assert len(dataset(one)) > 30_000
        assert dataset(two) == dataset(one)
        assert len(two._db) == len(one._db)
        assert_store_invariants(two)
        strip = [(f.file, f.iri, f.sha256, f.forms, f.triples) for f in one.files()]
        assert [(f.file, f.iri, f.sha256, f.forms, f.triples) for f in two.files()] == strip
    assert leftovers(tmp_path / "bulk") == []


def test_new_files_are_bulk_loaded_into_a_store_that_has_data(tmp_path: Path) -> None:
    """The two new files go in with one bulk load; from the first file already loaded on, one transaction
    per file (it replaces its forms), as the per-file path does."""
    first, later = SEEDS[:2], [SEEDS[2], SEEDS[3], SEEDS[0]]
    with OxigraphStore(tmp_path / "per-file") as one, OxigraphStore(tmp_path / "bulk") as two:
        ingest(first, one, bulk=False)
        ingest(first, two, bulk=False)
        per_file, _ = ingest(later, one, bulk=False)
        bulk, notes = ingest(later, two)
        assert notes[0].endswith(" quads of 2 files into the store …")
        assert outcomes(bulk) == outcomes(per_file)
        assert dataset(two) == dataset(one)
        assert_store_invariants(two)
    assert leftovers(tmp_path / "bulk") == []


def test_kept_shards_hold_exactly_the_quads_loaded(corpus: Path, tmp_path: Path) -> None:
    """`keep_shards` (what bench/scale.py's baseline loads): the shards, bulk-loaded into an empty
    pyoxigraph store, give the ingested store quad for quad, ingest times included."""
    kept = tmp_path / "shards"
    kept.mkdir()
    with OxigraphStore(tmp_path / "store") as store:
        report, _ = ingest([corpus], store, keep_shards=kept)
        assert report.forms == 40
        ingested = dataset(store, with_times=True)
    shards = sorted(kept.glob("*.nq"))
    assert shards
    again = ox.Store()
    oxigraph_module.bulk_load_nquads_files(again, shards)
    assert sorted(str(q) for q in again) == ingested
    assert leftovers(tmp_path / "store") == []


def test_a_later_file_of_the_same_name_replaces_the_earlier_one(tmp_path: Path) -> None:
    """Two folders hold a file of the same base name (the file's identity in the store): the second one
    replaces the first, in the bulk path as in the per-file path."""
    for folder, content in (("a", SEEDS[3]), ("b", SEEDS[0]), ("c", SEEDS[1])):
        (tmp_path / folder).mkdir()
        shutil.copy(content, tmp_path / folder / (SEEDS[3].name if folder != "c" else SEEDS[1].name))
    paths = [tmp_path / "a", tmp_path / "c", tmp_path / "b"]
    with OxigraphStore(tmp_path / "per-file") as one, OxigraphStore(tmp_path / "bulk") as two:
        per_file, _ = ingest(paths, one, bulk=False)
        bulk, notes = ingest(paths, two)
        assert notes[0].endswith(" quads of 2 files into the store …")  # b/ replaces a/: one transaction
        assert outcomes(bulk) == outcomes(per_file)
        assert dataset(two) == dataset(one)
        assert_store_invariants(two)


# ----------------------------------------------------------------------------- failures change nothing


def _load_then_fail(store: ox.Store, shards: Sequence[Path]) -> None:
    """A bulk load that dies after writing everything (disk full, killed): the copy holds it all."""
    _REAL_LOAD(store, shards)
    assert len(store) > 0
    raise OSError("No space left on device (injected)")


_REAL_LOAD = oxigraph_module.bulk_load_nquads_files


@pytest.mark.parametrize("seeded", [False, True], ids=["empty store", "store with data"])
def test_a_failing_bulk_load_leaves_the_store_unchanged(
    seeded: bool, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_dir = tmp_path / "store"
    with OxigraphStore(store_dir) as store:
        if seeded:
            ingest(SEEDS[:2], store, bulk=False)
        before = dataset(store, with_times=True)
        monkeypatch.setattr(oxigraph_module, "bulk_load_nquads_files", _load_then_fail)
        report, notes = ingest([corpus], store, workers=2)
        assert dataset(store, with_times=True) == before
        assert notes[-1].startswith("loading failed, nothing was added: ")
        assert not report.loaded and len(report.failed) == len(report.results) > 10
        parsed = [r for r in report.results if r.sha256 is not None and "StoreError" in (r.error or "")]
        assert len(parsed) == len(report.results) - 2  # all but the two that do not parse
        assert all(r.forms == r.triples == 0 and r.status == "failed" for r in parsed)
        assert parsed[0].error == (
            f"{parsed[0].path}: StoreError: bulk loading into {store_dir} failed, nothing was changed: "
            "No space left on device (injected)"
        )
        assert leftovers(store_dir) == []
        monkeypatch.undo()
        # still a working store: the same ingest now loads
        again, _ = ingest([corpus], store)
        assert len(again.loaded) == len(parsed)
        assert_store_invariants(store)


@pytest.mark.parametrize("where", ["disk", "memory"])
def test_a_corrupt_shard_loads_nothing(where: str, tmp_path: Path) -> None:
    good, bad = tmp_path / "0.nq", tmp_path / "1.nq"
    good.write_bytes(
        b"<http://example.org/a> <http://example.org/p> <http://example.org/b> <http://example.org/g> .\n"
    )
    lines = [
        f'<http://example.org/s{i}> <http://example.org/p> "{i}" <http://example.org/g> .\n'
        for i in range(1000)
    ]
    bad.write_bytes("".join(lines).encode() + b"<http://example.org/s> <not an IRI\n")
    store = OxigraphStore(tmp_path / "store") if where == "disk" else OxigraphStore.in_memory()
    with store:
        store.update(OLD_DATA)
        before = dataset(store, with_times=True)
        with pytest.raises(StoreError, match="nothing was changed"):
            store.bulk_add_nquads([good, bad])
        assert dataset(store, with_times=True) == before
        store.bulk_add_nquads([good])
        assert len(store._db) == len(before) + 1
    if where == "disk":
        assert leftovers(tmp_path / "store") == []


def _busy(*_: Any) -> bool:
    raise OSError(16, "Device or resource busy (injected)")


@pytest.mark.parametrize("exchange", ["exchange fails", "no exchange, a rename fails"])
def test_a_failing_swap_leaves_the_store_unchanged(
    exchange: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loaded copy cannot be put in place: the store's own directory stays (or goes back), reopened."""
    shard = tmp_path / "0.nq"
    shard.write_bytes(
        b"<http://example.org/a> <http://example.org/p> <http://example.org/b> <http://example.org/g> .\n"
    )
    real_rename = Path.rename

    def rename(self: Path, target: Any) -> Any:
        if ".staging-" in self.name:
            raise OSError("Device or resource busy (injected)")
        return real_rename(self, target)

    with OxigraphStore(tmp_path / "store") as store:
        store.update(OLD_DATA)
        before = dataset(store, with_times=True)
        if exchange == "exchange fails":
            monkeypatch.setattr(oxigraph_module, "_exchange", _busy)
        else:  # as where renameat2 is not offered: two renames, the second fails
            monkeypatch.setattr(oxigraph_module, "_exchange", lambda *_: False)
            monkeypatch.setattr(Path, "rename", rename)
        with pytest.raises(StoreError, match="cannot put the bulk-loaded copy in place, nothing was changed"):
            store.bulk_add_nquads([shard])
        monkeypatch.undo()
        assert dataset(store, with_times=True) == before
        assert leftovers(tmp_path / "store") == []
        store.bulk_add_nquads([shard])  # open and writable again
        assert len(store._db) == len(before) + 1


def test_an_interrupted_ingest_leaves_the_store_unchanged(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One shard per file, so the load is under way when the ingest stops half-way (here the progress
    callback raises, as Ctrl-C would): the load is abandoned, its copy removed, the store unchanged."""
    monkeypatch.setattr("kg.ingest.SHARD_BYTES", 1)
    loading: list[int] = []
    real_load = oxigraph_module.bulk_load_nquads_files

    def load(store: ox.Store, shards: Any) -> None:
        loading.append(1)
        real_load(store, shards)

    monkeypatch.setattr(oxigraph_module, "bulk_load_nquads_files", load)

    def progress(done: int, total: int, path: Path, result: Any) -> None:
        if done == total // 2 and result is None:
            raise RuntimeError("stop (injected)")

    store_dir = tmp_path / "store"
    with OxigraphStore(store_dir) as store:
        ingest(SEEDS[:2], store, bulk=False)
        before = dataset(store, with_times=True)
        with pytest.raises(RuntimeError, match="stop"):
            ingest_paths([corpus], store, progress, workers=2)
        assert loading  # the load had started
        assert dataset(store, with_times=True) == before
        assert leftovers(store_dir) == []


# ----------------------------------------------------------------------------- the workers' text


def test_worker_text_is_exactly_the_quads_of_the_mapping(corpus: Path) -> None:
    """`file_to_nquads` (what workers send, loaded as is) is, line for line, what pyoxigraph writes for the
    quads `file_to_quads` makes (and so parses to them), none twice, and its default-graph text that of
    their distinct triples; files that fail, fail alike."""
    paths = [*SEEDS, *expand_paths([corpus])]
    checked = 0
    for path in paths:
        data = path.read_bytes()
        try:
            quads = file_to_quads(data, path.name)
        except Exception as error:
            with pytest.raises(type(error)):
                file_to_nquads(data, path.name)
            continue
        nquads, default, graphs = file_to_nquads(data, path.name)
        written = ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b""
        assert sorted(nquads.splitlines()) == sorted(written.splitlines())
        assert Counter(ox.parse(nquads, ox.RdfFormat.N_QUADS)) == Counter(quads)
        assert graphs == dict(Counter(q.graph_name.value for q in quads))
        triples = [q.triple for q in ox.parse(default, ox.RdfFormat.N_TRIPLES)]
        assert len(triples) == len(set(triples))
        assert set(triples) == {q.triple for q in quads}
        written = ox.serialize({q.triple for q in quads}, None, ox.RdfFormat.N_TRIPLES) or b""
        assert sorted(default.splitlines()) == sorted(written.splitlines())
        checked += 1
    assert checked == len(paths) - 2  # all but the empty and the binary file


def test_nquads_terms_write_what_pyoxigraph_would_make() -> None:
    graph = URIRef("https://w3id.org/jixiao-kg/id/graph/x/0")
    subject = URIRef("http://example.org/s")
    values = [
        Literal('a "quoted" \\ backslash\nnew line\r\n\ttab \x00\x08\x0c\x1f\x7f controls'),
        Literal("简体", lang="zh-Hans"),
        Literal("plain"),
        Literal("typed string", datatype=XSD.string),
        Literal("12.5", datatype=XSD.decimal),
        Literal("not a number", datatype=XSD.integer),
        Literal(True),
        Literal("é 中文 \U0001f600 \u00a0"),
        URIRef("http://example.org/o?a=1&b=%E4%B8%AD#f"),
    ]
    triples = [(subject, URIRef(f"http://example.org/p{i}"), value) for i, value in enumerate(values)]
    terms = NQuadsTerms()
    end = f" {terms.graph(graph)} .\n"
    text = "".join(line + end for line in terms.triples(triples, graph))
    quads = triples_to_quads(graph, triples)
    assert Counter(ox.parse(text.encode(), ox.RdfFormat.N_QUADS)) == Counter(quads)
    assert sorted(text.encode().splitlines()) == sorted(
        (ox.serialize(quads, None, ox.RdfFormat.N_QUADS) or b"").splitlines()
    )
    assert "@zh-hans" in text  # lower-cased, as pyoxigraph does

    blank, predicate = BNode(), URIRef("http://example.org/p")
    first, second = NQuadsTerms().triples(
        [(blank, predicate, Literal(1)), (subject, predicate, blank)], graph
    )
    assert first.startswith("_:") and second.endswith(first.split()[0])

    with pytest.raises(ValueError):  # what pyoxigraph refuses is refused
        terms.triples([(subject, predicate, URIRef("not an IRI"))], graph)
    with pytest.raises(ValueError):
        terms.triples([(Literal("x"), predicate, subject)], graph)
    with pytest.raises(ValueError):
        terms.graph(CATALOG_GRAPH)


def test_exchange_swaps_two_directories_in_one_step(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / folder.name).touch()
    if not oxigraph_module._exchange(first, second):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not offered here: adopt uses two renames")
    assert [p.name for p in first.iterdir()] == ["second"]
    assert [p.name for p in second.iterdir()] == ["first"]


def test_a_store_that_cannot_be_swapped_is_written_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store directory that is a mount point (a container volume) cannot be put aside: no bulk path."""
    with OxigraphStore(tmp_path / "store") as store:
        assert store.can_bulk_load
        monkeypatch.setattr(oxigraph_module.os.path, "ismount", lambda path: True)
        assert not store.can_bulk_load
        report, notes = ingest(SEEDS, store)
        assert notes == [] and len(report.loaded) == 4
        assert_store_invariants(store)
