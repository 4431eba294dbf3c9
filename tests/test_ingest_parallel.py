"""`kg ingest --workers N`: files parsed and mapped in a process pool load exactly what a serial ingest
loads, with the same per-file results and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.cli import main
from kg.ingest import ingest_paths
from kg.store import OxigraphStore
from kg.synth import write_corpus

INGESTED_AT = re.compile(r"catalog#ingestedAt>")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder, 24, 3)
    (folder / "zz_empty.txt").write_bytes(b"")
    (folder / "zz_binary.txt").write_bytes(b"\x00\x01\x02 not a form")
    (folder / "zz_no_forms.txt").write_text("项目名称\t没有标题的表\n", encoding="utf-8")
    return folder


def _export(store: Path, capsys: pytest.CaptureFixture[str], out: Path) -> list[str]:
    assert main(["--store", str(store), "export", "--format", "nq", "-o", str(out)]) == 0
    capsys.readouterr()
    lines = out.read_text(encoding="utf-8").splitlines()
    return sorted(line for line in lines if not INGESTED_AT.search(line))


def test_parallel_ingest_gives_the_same_store_as_serial(
    sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `kg ingest` ends by linking; no curated overrides, so both stores are linked from the forms alone.
    monkeypatch.setenv("KG_LINEAGE_OVERRIDES", str(tmp_path / "no-overrides.csv"))
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    assert main(["--store", str(serial), "ingest", str(sources)]) == 1  # three bad files
    serial_out = capsys.readouterr()
    assert main(["--store", str(parallel), "ingest", "--workers", "2", str(sources)]) == 1
    parallel_out = capsys.readouterr()
    assert parallel_out.err.count("error: ") == serial_out.err.count("error: ") == 3
    assert sorted(re.findall(r"error: .*", parallel_out.err)) == sorted(
        re.findall(r"error: .*", serial_out.err)
    )
    first = _export(serial, capsys, tmp_path / "serial.nq")
    second = _export(parallel, capsys, tmp_path / "parallel.nq")
    assert len(first) > 5_000
    assert first == second


def _quads(store: OxigraphStore) -> list[str]:
    return sorted(str(q) for q in store._db if not INGESTED_AT.search(str(q.predicate)))


def test_parallel_reports_match_serial_reports(sources: Path) -> None:
    with OxigraphStore.in_memory() as one, OxigraphStore.in_memory() as two:
        serial = ingest_paths([sources], one, bulk=False)  # one transaction per file
        parallel = ingest_paths([sources], two, workers=2)  # all new: the bulk path
        assert [(r.file, r.forms, r.triples, r.error, r.sha256) for r in serial.results] == [
            (r.file, r.forms, r.triples, r.error, r.sha256) for r in parallel.results
        ]
        assert one.count_default_graph() == two.count_default_graph()
        assert _quads(one) == _quads(two)
        # A second parallel ingest replaces every file as a whole (one transaction per file).
        again = ingest_paths([sources], two, workers=2)
        assert [r.triples for r in again.results] == [r.triples for r in serial.results]
        assert one.count_triples() == two.count_triples()
        assert one.count_default_graph() == two.count_default_graph()
        assert _quads(one) == _quads(two)


def test_progress_is_reported_in_file_order(sources: Path) -> None:
    seen: list[tuple[int, str, bool]] = []
    with OxigraphStore.in_memory() as store:
        ingest_paths(
            [sources],
            store,
            lambda done, total, path, result: seen.append((done, path.name, result is None)),
            workers=2,
        )
    names = sorted(p.name for p in sources.glob("*.txt"))
    assert [name for done, name, before in seen if before] == names
    assert [done for done, _, before in seen if not before] == list(range(1, len(names) + 1))
