"""The house rules: one direction of imports, no cycles, one installable package and version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT

PACKAGES = ("trials", "inference", "ui")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected sets of modules (more than one module: a cycle), by Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(module: str) -> None:
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in graph.modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_between_modules():
    # Imports made for the type checker only (``if TYPE_CHECKING:``) are left out, as in
    # the import contracts: they name a type and load nothing at run time.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_import_contracts_hold():
    """The same check ``make lint`` runs (contracts in pyproject.toml, [tool.importlinter])."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_one_version_read_by_the_snapshots():
    from trials import APP_VERSION

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert declared == APP_VERSION


def _installed() -> bool:
    return Path(sys.executable).with_name("channel-trials").exists()


@pytest.mark.skipif(not _installed(), reason="the checkout is not installed (make app does it)")
def test_the_console_script_and_python_m_work_from_any_folder(tmp_path, accounts_template):
    shutil.copyfile(accounts_template, tmp_path / "t.sqlite3")  # acts as tester
    env = os.environ | {"TRIALS_DB": str(tmp_path / "t.sqlite3"), "PYTHONPATH": ""}
    script = shutil.which("channel-trials", path=str(Path(sys.executable).parent))
    for argv in ([script, "list", "--json"], [sys.executable, "-m", "trials", "list", "--json"]):
        result = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]"


def test_the_default_data_folder_is_the_checkouts_git_ignored_data_folder():
    # make app keeps the database and the demo sign-in there; moving it would lose them.
    from trials.storage.engine import DEFAULT_DATA_DIR

    assert DEFAULT_DATA_DIR == ROOT / "data"
    assert "/data/" in (ROOT / ".gitignore").read_text("utf-8").splitlines()
