"""Faults only root can stage: a command without root's power to read anything, a full disk.

Root reads a mode-000 file as if nothing were wrong. The command runs as root still (the
test's Python lives in root's home), but without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH:
the child drops them from its bounding set before exec, so file modes bind it as they
bind the unprivileged user a district runs linli as. Elsewhere (not root, not Linux) the
test is skipped with the reason.
"""

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not sys.platform.startswith("linux"),
    reason="needs root on Linux, to drop the capabilities that let root read mode-000 files")


def _drop_file_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_unprivileged(args: Sequence[str], env: dict[str, str],
                     timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `args` bound by file modes (see the module docstring); return what it printed."""
    return subprocess.run(list(args), env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_drop_file_capabilities, check=False)


needs_tmpfs = pytest.mark.skipif(
    os.geteuid() != 0 or not sys.platform.startswith("linux"),
    reason="needs root on Linux, to mount a small tmpfs that can be filled up")


@contextmanager
def small_disk(path: Path, size: str = "8m") -> Iterator[Path]:
    """Mount a tmpfs of `size` at `path` (a fresh folder), for a disk that can be filled."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True, capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; return it (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        with suppress(OSError):
            while True:
                out.write(b"\0" * 65536)
        with suppress(OSError):  # the last partial blocks
            while True:
                out.write(b"\0" * 512)
    return filler
