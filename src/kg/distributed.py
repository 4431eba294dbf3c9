"""Ingest on a Dask cluster: `kg ingest --dask tcp://scheduler:8786 PATH…`.

Parsing and mapping a file is a pure function of its bytes and name (`kg.ingest.prepare_data`), so it
runs anywhere: this process reads each file, sends its bytes to the cluster (workers need the `kg`
package, not the files), and a worker sends back the file's quads as N-Quads text plus the distinct
triples for the default graph (`kg.ingest.PreparedFile`). Answers arrive in any order; each is written
at once to an N-Quads shard in a spool folder (so memory holds only the files in flight), and the shards
are handed to the store in file order, exactly as the local process pool (`--workers`) hands its results:

* Oxigraph: files new to the store take `kg.ingest`'s bulk path (their text goes to the spool of shards
  beside the store, then one `Store.bulk_load` takes all of them, into a copy that replaces the store
  only when it succeeds); a file that replaces one loaded before is one transaction
  (`replace_file_nquads`). Either way a file that fails adds nothing and the others still load;
* a remote Virtuoso store: inside `RemoteStore.bulk()` every new file's shard goes to Virtuoso's load
  folder and all of them are loaded once, by one `rdf_loader_run()` (files loaded before are replaced,
  one transaction each).

At most `2 × (cluster threads)` files are in flight at a time. Results, errors and the store's contents
are those of a serial ingest (only the catalog's ingest times differ); tests compare the two stores.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kg.ingest import PreparedFile, describe_error, prepare_data

IN_FLIGHT_PER_THREAD = 2


class DaskUnavailableError(RuntimeError):
    """dask.distributed is not installed, or the scheduler cannot be reached."""


def connect(address: str, timeout: float | None = None) -> Any:
    """A `dask.distributed.Client` for the scheduler at `address` (e.g. tcp://127.0.0.1:8786); gives up
    after `timeout` seconds (default `$KG_DASK_CONNECT_TIMEOUT`, else 20)."""
    if timeout is None:
        timeout = float(os.environ.get("KG_DASK_CONNECT_TIMEOUT") or 20)
    try:
        from dask.distributed import Client
    except ImportError as err:
        raise DaskUnavailableError(
            "dask.distributed is not installed: pip install 'jixiao-kg[scale]' (or 'dask[distributed]')"
        ) from err
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise DaskUnavailableError(f"cannot reach the Dask scheduler at {address}: {err}") from err


def prepared_on_dask(files: Sequence[Path], address: str) -> Iterator[PreparedFile]:
    """Prepared files in file order, computed on the Dask cluster at `address` (see the module
    documentation); the spool folder of shards is removed when the iterator is closed or exhausted."""
    from dask.distributed import as_completed

    client = connect(address)
    spool = Path(tempfile.mkdtemp(prefix="kg-dask-shards-"))
    try:
        threads = sum(client.nthreads().values()) or 1
        limit = max(2, IN_FLIGHT_PER_THREAD * threads)
        done: dict[int, PreparedFile] = {}  # finished files: their text on disk, the rest here
        run = uuid.uuid4().hex[:12]  # task keys of this ingest, apart from any other on the cluster
        index_of: dict[str, int] = {}
        queue = iter(enumerate(files))
        futures = as_completed(loop=client.loop)
        in_flight = 0

        def submit_next() -> bool:
            nonlocal in_flight
            item = next(queue, None)
            if item is None:
                return False
            index, path = item
            try:
                data = path.read_bytes()
            except OSError as error:
                done[index] = PreparedFile(None, error=describe_error(error, str(path)))
                return True
            key = f"kg-ingest-{run}-{index}"
            future = client.submit(prepare_data, data, path.name, str(path), pure=False, key=key)
            index_of[key] = index
            futures.add(future)
            in_flight += 1
            return True

        while in_flight < limit and submit_next():
            pass
        next_index = 0
        while next_index < len(files):
            while next_index in done:
                yield _read_back(done.pop(next_index), spool, next_index)
                next_index += 1
            if next_index >= len(files):
                break
            future = next(futures)
            in_flight -= 1
            index = index_of.pop(future.key)
            try:
                prepared: PreparedFile = future.result()
            except Exception as error:  # a worker died or could not run the task
                prepared = PreparedFile(None, error=describe_error(error, str(files[index])))
            done[index] = _spool(prepared, spool, index)
            future.release()
            while in_flight < limit and submit_next():
                pass
    finally:
        client.close()
        shutil.rmtree(spool, ignore_errors=True)


def _spool(prepared: PreparedFile, spool: Path, index: int) -> PreparedFile:
    """Write a prepared file's text to its shard files; keep only the small rest in memory."""
    if prepared.nquads is None:
        return prepared
    (spool / f"{index:08d}.nq").write_bytes(prepared.nquads)
    (spool / f"{index:08d}.nt").write_bytes(prepared.default_triples)
    return PreparedFile(prepared.sha256, b"", b"", prepared.graphs, prepared.error)


def _read_back(prepared: PreparedFile, spool: Path, index: int) -> PreparedFile:
    shard = spool / f"{index:08d}.nq"
    if prepared.nquads is None or not shard.exists():
        return prepared
    nquads = shard.read_bytes()
    default = (spool / f"{index:08d}.nt").read_bytes()
    shard.unlink()
    (spool / f"{index:08d}.nt").unlink()
    return PreparedFile(prepared.sha256, nquads, default, prepared.graphs, prepared.error)
