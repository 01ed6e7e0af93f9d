"""The public list is written three times in ``langmem_agno/__init__.py``; they must agree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import langmem_agno

INIT = Path(langmem_agno.__file__)


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module, ast.dump(imp)
                for alias in imp.names:
                    names[alias.asname or alias.name] = imp.module
    return names


def test_all_lazy_table_and_type_checking_imports_agree() -> None:
    public = set(langmem_agno.__all__) - {"__version__"}
    assert len(langmem_agno.__all__) == len(set(langmem_agno.__all__)), "a name is listed twice in __all__"
    assert set(langmem_agno._EXPORTS) == public
    assert _type_checking_imports() == langmem_agno._EXPORTS


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    for name, module in langmem_agno._EXPORTS.items():
        assert getattr(langmem_agno, name) is getattr(importlib.import_module(module), name), name
