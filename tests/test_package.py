"""The package's front door: one version, and the names an editor resolves without importing."""
import ast
import importlib.metadata
import inspect
import tomllib
from pathlib import Path

import baremlp

ROOT = Path(__file__).resolve().parents[1]


def test_one_version_in_the_package_and_its_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]  # read from baremlp.__version__ alone
    assert baremlp.__version__ == "0.2.0" == importlib.metadata.version("baremlp")


def test_editors_resolve_every_public_name_through_the_type_checking_block():
    tree = ast.parse(inspect.getsource(baremlp))
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    named = {alias.asname or alias.name for node in block.body for alias in node.names}
    assert named == set(baremlp.__all__)
    for name in baremlp.__all__:  # and each is what the lazy import hands out
        module = baremlp.HOME.get(name)
        if module:
            assert getattr(baremlp, name) is getattr(importlib.import_module(f"baremlp.{module}"), name)
