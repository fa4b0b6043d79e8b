"""The engine as a package: cheap to import, independent of the app, and one adapter the
only code that touches nutpie, refusing any nutpie version but the pinned one."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "inference"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_adapter_imports_nutpie():
    users = sorted(
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(m.split(".")[0] == "nutpie" for m in imported_modules(path))
    )
    assert users == ["inference/nutpie_adapter.py"]


def test_the_engine_imports_nothing_from_the_app():
    for path in PACKAGE.rglob("*.py"):
        app = {
            m for m in imported_modules(path) if m.split(".")[0] in ("trials", "ui", "app_pages")
        }
        assert not app, (path, app)


def test_importing_the_engine_loads_no_sampler_or_model_library():
    code = (
        "import sys, inference; "
        "print([m for m in ('numba', 'nutpie', 'pymc', 'pytensor', 'arviz') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_adapter_drives_the_pinned_nutpie():
    from inference.nutpie_adapter import NUTPIE_VERSION

    pins = re.findall(r"^nutpie==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pins == [NUTPIE_VERSION]


def test_another_nutpie_version_is_refused_with_a_clear_message(monkeypatch):
    import nutpie

    from inference import nutpie_adapter

    nutpie_adapter.nutpie_module.cache_clear()
    monkeypatch.setattr(nutpie, "__version__", "0.99.0")
    try:
        with pytest.raises(
            nutpie_adapter.NutpieVersionError, match=r"nutpie 0\.99\.0 is installed"
        ):
            nutpie_adapter.nutpie_module()
    finally:
        nutpie_adapter.nutpie_module.cache_clear()
