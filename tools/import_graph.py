"""Print the import graph of patrol's top-level packages, function-level imports included.

    python tools/import_graph.py            # package-level edges, with the count of module imports
    python tools/import_graph.py --modules  # every module-level edge across packages as well

It reads the source with ``ast`` (no module is imported), so an import inside a function counts
as much as one at the top of a file; imports under ``if TYPE_CHECKING:`` (annotations only, never
run) are left out, as import-linter leaves them out. It ends with the cycles it finds, between packages and
between modules; the exit status is 1 when there is a cycle. ``lint-imports`` (import-linter,
configured in pyproject.toml) checks the layering contracts; this script is the measurement.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("patrol", "console", "crawler", "checks", "reports", "store", "common", "patroldata")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Modules (or names under them) imported anywhere in the file."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import mod` names a module when pkg/mod.py exists
            for alias in node.names:
                candidate = f"{stem}.{alias.name}"
                found.add(candidate if _is_module(candidate, root) else stem)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only,
    never executed; import-linter leaves them out too)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_module(name: str, root: Path) -> bool:
    p = root.joinpath(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def _resolve(name: str, modules: set[str]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = [f for pkg in PACKAGES for f in (root / pkg).rglob("*.py")]
    modules = {module_name(f, root) for f in files}
    edges: dict[str, set[str]] = defaultdict(set)
    for f in files:
        src = module_name(f, root)
        for target in imports_of(f, root):
            dst = _resolve(target, modules)
            if dst and dst != src:
                edges[src].add(dst)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    nodes = set(edges) | {d for ds in edges.values() for d in ds}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", action="store_true", help="list module edges across packages")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    edges = graph(args.root)
    packages: dict[tuple[str, str], list[str]] = defaultdict(list)
    for src, dsts in edges.items():
        for dst in dsts:
            a, b = src.split(".")[0], dst.split(".")[0]
            if a != b:
                packages[(a, b)].append(f"{src} -> {dst}")
    print("package edges (module imports):")
    for (a, b), via in sorted(packages.items()):
        print(f"  {a} -> {b} ({len(via)})")
        if args.modules:
            for line in sorted(via):
                print(f"      {line}")
    pkg_edges: dict[str, set[str]] = defaultdict(set)
    for a, b in packages:
        pkg_edges[a].add(b)
    pkg_cycles = cycles(pkg_edges)
    mod_cycles = cycles(edges)
    print(f"package cycles: {len(pkg_cycles)}")
    for c in pkg_cycles:
        print("  " + " <-> ".join(c))
    print(f"module cycles: {len(mod_cycles)}")
    for c in mod_cycles:
        print("  " + " <-> ".join(c))
    return 1 if pkg_cycles or mod_cycles else 0


if __name__ == "__main__":
    sys.exit(main())
