"""The wheel carries what users and type checkers need: the package data and ``py.typed``."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_py_typed_and_the_cli_package(tmp_path):
    # build from a copy, so the build leaves nothing in the checkout
    source = tmp_path / "source"
    shutil.copytree(ROOT / "fieldkit", source / "fieldkit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                             "-w", str(tmp_path), str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("fieldkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "fieldkit/py.typed" in names
    assert {"fieldkit/cli/main.py", "fieldkit/cli/privacy.py", "fieldkit/hooks/specs.py"} <= names
    assert not [name for name in names if name.startswith("fieldkit/plugins/") and name.endswith("_commands.py")]
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "fieldkit = fieldkit.cli:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()
