"""`kg ingest --dask ADDRESS`: files parsed and mapped on a Dask cluster (a LocalCluster with 2 worker
processes, started by the session fixture `dask_scheduler`) load exactly what a serial ingest loads, with
the same per-file results and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.cli import main
from kg.ingest import ingest_paths
from kg.store import OxigraphStore
from kg.synth import write_corpus
from tests.remote_services import free_port

INGESTED_AT = re.compile(r"catalog#ingestedAt>")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(folder, 12, 5)
    (folder / "zz_empty.txt").write_bytes(b"")
    (folder / "zz_binary.txt").write_bytes(b"\x00\x01\x02 not a form")
    return folder


def _export(store: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["--store", str(store), "export", "--format", "nq", "-o", str(out)]) == 0
    capsys.readouterr()
    return sorted(
        line for line in out.read_text(encoding="utf-8").splitlines() if not INGESTED_AT.search(line)
    )


def test_dask_ingest_gives_the_same_store_and_errors_as_serial(
    sources: Path, tmp_path: Path, dask_scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    serial, distributed = tmp_path / "serial", tmp_path / "dask"
    assert main(["--store", str(serial), "ingest", str(sources)]) == 1  # two bad files
    serial_out = capsys.readouterr()
    assert main(["--store", str(distributed), "ingest", "--dask", dask_scheduler, str(sources)]) == 1
    dask_out = capsys.readouterr()
    errors = sorted(re.findall(r"error: .*", dask_out.err))
    assert len(errors) == 2 and errors == sorted(re.findall(r"error: .*", serial_out.err))
    first = _export(serial, tmp_path / "serial.nq", capsys)
    assert len(first) > 3_000
    assert first == _export(distributed, tmp_path / "dask.nq", capsys)


def test_dask_reports_match_serial_reports(sources: Path, dask_scheduler: str) -> None:
    with OxigraphStore.in_memory() as one, OxigraphStore.in_memory() as two:
        serial = ingest_paths([sources], one, bulk=False)  # one transaction per file
        distributed = ingest_paths([sources], two, dask=dask_scheduler)  # all new: the bulk path
        assert [(r.file, r.forms, r.triples, r.error, r.sha256) for r in serial.results] == [
            (r.file, r.forms, r.triples, r.error, r.sha256) for r in distributed.results
        ]
        quads = [
            sorted(str(q) for q in store._db if not INGESTED_AT.search(str(q.predicate)))
            for store in (one, two)
        ]
        assert len(quads[0]) > 3_000 and quads[0] == quads[1]


def test_unreachable_scheduler_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("KG_DASK_CONNECT_TIMEOUT", "2")
    address = f"tcp://127.0.0.1:{free_port()}"
    data = Path(__file__).resolve().parents[1] / "data"
    status = main(["--store", str(tmp_path / "store"), "ingest", "--dask", address, str(data)])
    assert status == 1
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
