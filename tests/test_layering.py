"""The dependency direction (DESIGN.md, Layout), checked on the source tree with `ast`.

* engine/**  imports nothing from server, app, Qt (PySide6, shiboken6, qasync) or aiohttp
             (aiohttp is the server's; every outbound request in the engine goes through httpx);
* server/**  imports from engine only engine.services (and its submodules), engine.models,
             engine.errors; never app or Qt;
* app/**     the same three engine packages, never server; except app/cli.py, the
             composition root, which may import anything.

Every import counts: module level, inside functions, under `if TYPE_CHECKING:`, relative
ones (resolved), `from engine import X`, and `importlib.import_module("...")` /
`__import__("...")` with a constant name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("engine", "server", "app")
COMPOSITION_ROOT = "app.cli"
QT = ("PySide6", "shiboken6", "qasync")
ENGINE_API = ("engine.services", "engine.models", "engine.errors")


def _within(module: str, packages: tuple[str, ...] | str) -> bool:
    """`module` is one of `packages` or inside one of them (by whole dotted parts)."""
    if isinstance(packages, str):
        packages = (packages,)
    return any(module == p or module.startswith(p + ".") for p in packages)


def _is_module_file(name: str, root: Path) -> bool:
    path = root / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(source: str, module: str, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of everything `source` (the module `module`) imports."""
    tree = ast.parse(source)
    package = module.split(".")
    is_package = False  # sources are modules; an __init__ is passed as "pkg.__init__"
    if package[-1] == "__init__":
        package, is_package = package[:-1], True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                keep = len(package) - node.level + (1 if is_package else 0)
                base = ".".join([*package[:keep], *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                # `from engine import services` imports the module engine.services;
                # `from engine import __version__` imports from `engine` itself.
                candidate = f"{base}.{alias.name}"
                if alias.name != "*" and _is_module_file(candidate, root):
                    yield node.lineno, candidate
                else:
                    yield node.lineno, base
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if (
                name in {"import_module", "__import__"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield node.lineno, node.args[0].value


def rule_breaks(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when it may."""
    layer = importer.split(".")[0]
    if layer == "engine":
        if _within(imported, ("server", "app")):
            return "engine must not depend on server or app"
        if _within(imported, QT):
            return "engine must work without Qt"
        if _within(imported, "aiohttp"):
            return "engine must not use aiohttp (server only; outbound HTTP goes through httpx)"
        return None
    if layer == "server":
        if _within(imported, "app"):
            return "server must not depend on app"
        if _within(imported, QT):
            return "server must work without Qt"
    elif layer == "app":
        if importer == COMPOSITION_ROOT:
            return None
        if _within(imported, "server"):
            return "app must not depend on server (only app/cli.py wires them)"
    else:
        return None
    if _within(imported, "engine") and not _within(imported, ENGINE_API):
        return f"{layer} may import from engine only {', '.join(ENGINE_API)}"
    return None


def violations(source: str, module: str, root: Path = ROOT) -> list[str]:
    """Every forbidden import in `source`, as 'module:line imports X (why)'."""
    found = []
    for line, imported in imported_modules(source, module, root):
        why = rule_breaks(module, imported)
        if why:
            found.append(f"{module}:{line} imports {imported} ({why})")
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def source_files() -> list[Path]:
    files: list[Path] = []
    for layer in LAYERS:
        files.extend(
            p for p in sorted((ROOT / layer).rglob("*.py")) if "__pycache__" not in p.parts
        )
    return files


# --- the real tree ----------------------------------------------------------------------------


def test_the_source_tree_respects_the_dependency_direction() -> None:
    files = source_files()
    layers_seen = {module_name(p).split(".")[0] for p in files}
    assert layers_seen == set(LAYERS)
    assert len(files) >= 20
    found = [v for path in files for v in violations(path.read_text("utf-8"), module_name(path))]
    assert not found, "\n".join(found)


def test_the_checker_sees_the_real_imports() -> None:
    # Guards against a checker that silently finds nothing.
    routes = ROOT / "server" / "routes.py"
    imported = {m for _, m in imported_modules(routes.read_text("utf-8"), "server.routes")}
    assert "engine.services" in imported
    assert "aiohttp" in imported
    cli = {m for _, m in imported_modules((ROOT / "app" / "cli.py").read_text(), "app.cli")}
    assert {"engine.core", "server.app"} <= cli


# --- the checker catches violations (synthetic sources) ----------------------------------------


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("engine.pipeline", "from server.app import make_app"),
        ("engine.pipeline", "import server"),
        ("engine.store.reads", "from app import cli"),
        ("engine.core", "from PySide6.QtCore import QObject"),
        ("engine.core", "import shiboken6"),
        ("engine.core", "import qasync"),
        ("engine.net.client", "from aiohttp import web"),
        ("engine.net.client", "import aiohttp.web"),
        ("engine.net.client", "import aiohttp"),
        ("engine.net.client", "from aiohttp import ClientSession"),
        ("engine.sources.feeds", "def f():\n    from server import routes\n    return routes\n"),
        (
            "engine.models",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.cli import main\n",
        ),
        ("engine.services.search", "from ...server import app"),
        ("engine.core", "import importlib\nimportlib.import_module('server.app')"),
        ("engine.core", "__import__('PySide6.QtWidgets')"),
        ("server.routes", "from engine.store.reads import summaries"),
        ("server.routes", "from engine.core import Core"),
        ("server.routes", "import engine.search.tantivy_index"),
        ("server.routes", "from engine import pipeline"),
        ("server.routes", "from engine import __version__"),
        ("server.routes", "from engine.config import Settings"),
        ("server.routes", "from engine.servicesx import thing"),  # not engine.services
        ("server.routes", "from app.cli import main"),
        ("server.routes", "from PySide6 import QtCore"),
        ("server.torznab.caps", "from ...engine.store import reads"),
        ("app.main_window", "from server.app import make_app"),
        ("app.main_window", "from engine.store.database import open_database"),
        ("app.search_view", "from engine.core import Core"),
        ("app.__init__", "from .cli import main\nfrom engine.sources import registry"),
    ],
)
def test_the_checker_catches_a_violation(module: str, source: str) -> None:
    found = violations(source, module)
    assert len(found) == 1, found
    assert found[0].startswith(f"{module}:")


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("server.routes", "from engine.services import Services, parse_search_params"),
        ("server.routes", "from engine.services.keys import digest"),
        ("server.routes", "from engine import services, models, errors"),
        ("server.render", "import engine.models\nfrom engine.errors import NotFound"),
        ("server.app", "from aiohttp import web\nfrom server import routes\nfrom . import routes"),
        ("app.main_window", "from PySide6.QtWidgets import QMainWindow\nimport qasync"),
        ("app.main_window", "from engine.services import Services\nfrom engine.models import *"),
        ("app.cli", "from engine.core import Core\nfrom server.app import make_app"),
        ("engine.core", "from engine.store.database import open_database\nimport httpx"),
        ("engine.services.search", "from ..store.reads import summaries\nfrom . import keys"),
        ("engine.__init__", "from .models import ContentKind"),
        ("engine.net.client", "import aiohttp_socks_lookalike"),  # not aiohttp itself
    ],
)
def test_the_checker_allows_what_the_design_allows(module: str, source: str) -> None:
    assert violations(source, module) == []


def test_relative_imports_resolve_to_the_right_package() -> None:
    def names(source: str, module: str) -> list[str]:
        return [m for _, m in imported_modules(source, module)]

    assert names("from ..store import reads", "engine.services.search") == ["engine.store.reads"]
    assert names("from . import keys", "engine.services.search") == ["engine.services.keys"]
    assert names("from .keys import digest", "engine.services.__init__") == ["engine.services.keys"]
    assert names("from engine import __version__", "server.app") == ["engine"]
