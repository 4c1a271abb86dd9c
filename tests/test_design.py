"""The package's shape, as the code map (docs/development.md) states it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sigv4_storage"


def imports():
    """module -> the package's modules it imports (anywhere in it, type-only imports too)."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    found.add(node.module.split(".")[0])
                elif node.level == 1:
                    found.update(alias.name for alias in node.names)
                elif node.module and node.module.startswith("sigv4_storage."):
                    found.add(node.module.split(".")[1])
        graph[path.stem] = found - {path.stem}
    return graph


def test_no_import_circle():
    graph = imports()
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError(" -> ".join([*path[path.index(module) :], module]))
        if module in done or module not in graph:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module != "__init__":
            visit(module)


def test_mixins_do_not_import_the_storage():
    graph = imports()
    for module in ("collect", "creates", "direct", "files", "presign"):
        assert "storage" not in graph[module], module
