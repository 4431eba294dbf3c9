"""Bad input: every failing file gives a clear error (file, line, what was expected), a non-zero exit
status, and leaves the store exactly as it was; good files beside it still load.

Runs `.venv/bin/kg ingest` as a subprocess on a copy of a store seeded with data/, and compares the triple
count and the N-Quads export before and after.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.ingest import expand_paths, file_to_quads, ingest_paths
from kg.store import OxigraphStore

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
KG_BIN = REPO / ".venv" / "bin" / "kg"
SELF_EVALUATION = "001_5d49eaeac9110deb.txt"  # 15 self-evaluation forms (2024)
CHAOYANG = "003_f95dcf2be13289f4.txt"  # 2 self-evaluation forms (2020), vertical layout
ERROR_LINE = re.compile(r"^error: (?P<file>.+?):(?P<line>\d+): expected (?P<expected>.+)$", re.MULTILINE)


def kg(*args: str | Path, store: Path) -> subprocess.CompletedProcess[str]:
    command = (
        [str(KG_BIN)]
        if KG_BIN.exists()
        else [sys.executable, "-c", "import sys; from kg.cli import main; sys.exit(main())"]
    )
    environment = {k: v for k, v in os.environ.items() if k != "KG_STORE"}
    raw = subprocess.run(
        [*command, "--store", str(store), *map(str, args)],
        capture_output=True,
        env=environment,
        cwd=REPO,
        check=False,
        timeout=300,
    )
    return subprocess.CompletedProcess(
        raw.args, raw.returncode, raw.stdout.decode("utf-8"), raw.stderr.decode("utf-8")
    )


def snapshot(store: Path) -> tuple[int, bytes]:
    """Triple count and N-Quads export (opened after the subprocess has released the store)."""
    with OxigraphStore(store, create=False) as opened:
        return opened.count_triples(), opened.export("nq") or b""


def forms_csv(store: Path, file: str) -> str:
    result = kg("query", "--name", "forms", "--param", f"file={file}", "--format", "csv", store=store)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("seed") / "store"
    result = kg("ingest", DATA, store=store)
    assert result.returncode == 0, result.stderr
    return store


@pytest.fixture
def store(seed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(seed, copy)
    return copy


def _empty(_: Path) -> bytes:
    return b""


def _binary(_: Path) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


def _cut_in_half(_: Path) -> bytes:
    lines = (DATA / SELF_EVALUATION).read_bytes().splitlines(keepends=True)
    return b"".join(lines[:40])


def _unknown_layout(_: Path) -> bytes:
    rows = [
        "某单位办公设备采购清单",
        "",
        "序号\t名称\t数量\t金额（元）",
        "1\t台式电脑\t3\t15000.00",
        "2\t打印机\t1\t2000.00",
    ]
    return "\n".join(rows).encode("utf-8") + b"\n"


BAD_INPUTS: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    # case: (file name, content)
    "empty file": ("empty.txt", _empty),
    "binary file": ("scan.png", _binary),
    # same name as the loaded file: a failed re-ingest must keep its 15 forms
    "form cut in half": (SELF_EVALUATION, _cut_in_half),
    "unknown layout": ("procurement-list.txt", _unknown_layout),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_file_is_rejected_and_store_unchanged(case: str, store: Path, tmp_path: Path) -> None:
    name, content = BAD_INPUTS[case]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(content(path))
    before = snapshot(store)

    result = kg("ingest", path, store=store)

    assert result.returncode == 1
    errors = ERROR_LINE.findall(result.stderr)
    assert len(errors) == 1, result.stderr
    file, line, expected = errors[0]
    assert file == str(path)
    assert int(line) >= 1
    assert expected.strip()
    assert re.search(rf"{re.escape(str(path))} +0 +0 +failed", result.stdout)
    assert "0 loaded, 1 failed" in result.stdout
    assert snapshot(store) == before


def test_cut_form_keeps_the_previous_forms_of_that_file(store: Path, tmp_path: Path) -> None:
    path = tmp_path / SELF_EVALUATION
    path.write_bytes(_cut_in_half(path))
    before = forms_csv(store, SELF_EVALUATION)
    result = kg("ingest", path, store=store)
    assert result.returncode == 1
    # lines 1-40 hold form 0 and the head of form 1: form 1 lacks its indicator table
    assert f"error: {path}:40: expected the indicator table heading" in result.stderr
    assert forms_csv(store, SELF_EVALUATION) == before
    assert len(before.splitlines()) == 1 + 15


def test_gb18030_file_loads_like_its_utf8_original(store: Path, tmp_path: Path) -> None:
    original = (DATA / CHAOYANG).read_text(encoding="utf-8")
    encoded = original.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        encoded.decode("utf-8")
    path = tmp_path / CHAOYANG  # same base name: replaces the UTF-8 original's forms
    path.write_bytes(encoded)
    forms_before = forms_csv(store, CHAOYANG)
    turtle_before = kg("export", "--format", "ttl", store=store).stdout

    result = kg("ingest", path, store=store)

    assert result.returncode == 0, result.stderr
    assert re.search(rf"{re.escape(str(path))} +2 +[1-9]\d* +ok", result.stdout)
    assert forms_csv(store, CHAOYANG) == forms_before
    assert len(forms_before.splitlines()) == 1 + 2
    # the very same triples: the merged default graph is unchanged
    assert kg("export", "--format", "ttl", store=store).stdout == turtle_before


def test_one_bad_file_among_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("000_bb01accd19b494dd.txt", CHAOYANG):
        shutil.copy(DATA / name, folder / name)
    (folder / "002_broken.txt").write_bytes(_unknown_layout(folder))
    store = tmp_path / "store"

    result = kg("ingest", folder, store=store)

    assert result.returncode == 1
    # new files into a fresh store: parsed one by one, then bulk-loaded together
    assert [line.split()[-1] for line in result.stderr.splitlines() if line.startswith("[")] == [
        "parsed",
        "failed",
        "parsed",
    ]
    assert re.search(r"^loading [\d,]+ quads of 2 files into the store …$", result.stderr, re.MULTILINE)
    assert re.search(r"total \(3 files\) +4 +[1-9]\d* +2 loaded, 1 failed", result.stdout)
    [error] = ERROR_LINE.findall(result.stderr)
    assert error[0] == str(folder / "002_broken.txt") and error[1] == "1"
    assert "form title" in error[2]
    forms = kg("forms", store=store)
    assert forms.stdout.splitlines()[-1] == "4 forms"


# ----------------------------------------------------------------------------- the ingest API


def test_expand_paths_takes_only_txt_files_from_folders(tmp_path: Path) -> None:
    files = ("b.txt", "a.txt", "sub/c.TXT", "README.md", ".hidden.txt", ".git/x.txt", "sub/notes.MD")
    for relative in (*files, "lineage-overrides.csv", "sub/form.pdf"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x", encoding="utf-8")
    explicit = tmp_path / "README.md"
    assert expand_paths([tmp_path, tmp_path / "a.txt", explicit, tmp_path / "missing.txt"]) == [
        tmp_path / "a.txt",
        tmp_path / "b.txt",
        tmp_path / "sub" / "c.TXT",
        explicit,  # named explicitly: kept
        tmp_path / "missing.txt",  # reported as an error by ingest
    ]


@pytest.mark.parametrize("bulk", [False, True])
def test_ingest_paths_reports_per_file(tmp_path: Path, bulk: bool) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    calls: list[tuple[int, int, str, str | None]] = []
    with OxigraphStore.in_memory() as memory:
        report = ingest_paths(
            [DATA / CHAOYANG, tmp_path / "empty.txt", tmp_path / "missing.txt"],
            memory,
            lambda done, total, path, result: calls.append(
                (done, total, path.name, result.status if result else None)
            ),
            bulk=bulk,
        )
        assert [(r.file, r.forms, r.status) for r in report.results] == [
            (CHAOYANG, 2, "ok"),
            ("empty.txt", 0, "failed"),
            ("missing.txt", 0, "failed"),
        ]
        assert not report.ok and report.forms == 2
        assert report.triples == memory.files()[0].triples > 0
        assert (
            report.results[2].error
            == f"{tmp_path / 'missing.txt'}: cannot read the file: No such file or directory"
        )
    assert calls == [
        (0, 3, CHAOYANG, None),
        (1, 3, CHAOYANG, "parsed" if bulk else "ok"),  # bulk path: loaded after the others are read
        (1, 3, "empty.txt", None),
        (2, 3, "empty.txt", "failed"),
        (2, 3, "missing.txt", None),
        (3, 3, "missing.txt", "failed"),
    ]


def test_file_to_quads_is_pure_and_picklable() -> None:
    data = (DATA / CHAOYANG).read_bytes()
    first, second = file_to_quads(data, CHAOYANG), file_to_quads(data, CHAOYANG)
    assert set(first) == set(second)
    assert {str(q.graph_name) for q in first} == {
        "<https://w3id.org/jixiao-kg/id/graph/003_f95dcf2be13289f4/0>",
        "<https://w3id.org/jixiao-kg/id/graph/003_f95dcf2be13289f4/1>",
    }
    assert pickle.loads(pickle.dumps(first)) == first  # can come back from a worker process
