"""Engines the GPU-result tests run on. Each test that takes the `engine` fixture runs once per
engine, with that engine selected through the public API (`triton_metal.device`)."""

import os
import shutil

import pytest

import triton_metal as triton

# name -> selector for triton_metal.device()
ENGINES = {
    "gpu": "default",  # wgpu's best adapter: lavapipe in CI
    "msl-emu": "msl-emu",
    "interpreter": "interpreter",
}


def _require_gpu() -> bool:
    return os.environ.get("TRITON_METAL_REQUIRE_GPU", "") == "1"


@pytest.fixture(params=list(ENGINES))
def engine(request):
    name = request.param
    if name == "msl-emu" and shutil.which("clang-19") is None:
        pytest.skip("the MSL emulator needs clang-19")
    try:
        ctx = triton.device(ENGINES[name])
        ctx.__enter__()
    except Exception as e:  # noqa: BLE001 - reported below
        if name == "gpu" and not _require_gpu():
            pytest.skip(f"no GPU device: {e}")
        raise
    try:
        yield name
    finally:
        ctx.__exit__(None, None, None)


@pytest.fixture
def interpreter():
    """For tests about compilation or argument checking, which need no GPU."""
    with triton.device("interpreter"):
        yield "interpreter"


# --- Known failures -------------------------------------------------------------------------
# tests/known_failures.txt lists the cases that fail today, each with the reason (a missing
# feature or a known engine bug), one `nodeid-glob | reason` per line. They run and are
# marked strict xfail: they are reported, never hidden, and one that starts passing fails
# the run until its line is removed, so the list can only shrink honestly.

import fnmatch as _fnmatch
import pathlib as _pathlib

_KNOWN = _pathlib.Path(__file__).resolve().parent / "known_failures.txt"


def _known_failures():
    if not _KNOWN.exists():
        return []
    rules = []
    for line in _KNOWN.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition("|")
        rules.append((pattern.strip(), reason.strip() or "known failure"))
    return rules


def pytest_collection_modifyitems(config, items):
    rules = _known_failures()
    if not rules:
        return
    for item in items:
        for pattern, reason in rules:
            # Exact ids first: their `[params]` would read as character classes to fnmatch.
            if item.nodeid == pattern or _fnmatch.fnmatchcase(item.nodeid, pattern):
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
                break
