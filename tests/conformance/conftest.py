"""The conformance suite runs every case on the engines of the top-level `engine` fixture
(tests/conftest.py): the interpreter and the default wgpu device on every case, the MSL
emulator on a deterministic sample, because the emulator compiles each kernel with clang.

TM_CONFORMANCE_EMU_EVERY=N keeps one emulator case in N (default 10; 1 keeps all of them).
The sample depends only on each case's id, so it is stable as cases are added. Cases left
out are deselected (reported as such by pytest), not skipped."""

import os
import pathlib
import zlib

_HERE = pathlib.Path(__file__).resolve().parent


def _emu_every() -> int:
    try:
        return max(1, int(os.environ.get("TM_CONFORMANCE_EMU_EVERY", "10")))
    except ValueError:
        return 10


def pytest_collection_modifyitems(config, items):
    every = _emu_every()
    if every == 1:
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        in_suite = _HERE in pathlib.Path(str(item.fspath)).resolve().parents
        if (
            in_suite
            and callspec is not None
            and callspec.params.get("engine") == "msl-emu"
            and zlib.crc32(item.nodeid.encode()) % every != 0
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
