#!/usr/bin/env python3
"""Fails when the workspace loses the shape the code review asked for.

1. No module cycles inside a crate. A crate reads top-down: a module uses what
   is below it, never what uses it. The graph is drawn between a crate's
   top-level modules (`src/foo.rs`, `src/foo/`) from every `crate::…` and
   top-level `super::…` path outside test code, with names that `lib.rs`
   re-exports (`pub use foo::Bar`) resolved to the module that defines them.
2. Every crate's `lib.rs` doc has a `# Layout` section that names each module
   `lib.rs` declares (a one-file crate has none to name), so a newcomer finds the rooms from the front door.
3. The API does not link the recogniser: `cargo tree -p sealscribe-api -e normal`
   shows no whisper-rs (an API-only node must not build or load whisper.cpp).

    scripts/check-shape.py            # both checks
    scripts/check-shape.py --cycles   # the module graph and layout docs only (no cargo)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH_RE = re.compile(r"\b(crate|super)::((?:[A-Za-z_][A-Za-z0-9_]*::)*)\{?([A-Za-z_][A-Za-z0-9_]*)?")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super)::\{(.*?)\};", re.S)
PUB_USE_RE = re.compile(r"\bpub\s+use\s+(?:crate::|self::)?(.*?);", re.S)
TEST_START_RE = re.compile(r"^\s*#\[cfg\(test\)\]")


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def without_tests(text: str) -> str:
    """Drops everything from the first `#[cfg(test)]` on: by house style the
    test module closes the file, and tests are leaves, not layers."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if TEST_START_RE.match(line):
            return "\n".join(lines[:i])
    return text


def top_modules(src: Path) -> set[str]:
    mods = set()
    for p in src.iterdir():
        if p.is_file() and p.suffix == ".rs" and p.stem not in ("lib", "main"):
            mods.add(p.stem)
        elif p.is_dir():
            mods.add(p.name)
    return mods


def split_group(body: str) -> list[str]:
    """Top-level items of a `{a, b::{c, d}, e::f}` use group."""
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def reexports(src: Path, mods: set[str]) -> dict[str, str]:
    """Names `lib.rs` re-exports from one of the crate's own modules."""
    lib = src / "lib.rs"
    if not lib.exists():
        return {}
    names: dict[str, str] = {}
    text = strip_comments(lib.read_text())
    for m in PUB_USE_RE.finditer(text):
        spec = m.group(1).strip()
        stack = [spec]
        while stack:
            s = stack.pop()
            if "{" in s:
                head, _, rest = s.partition("{")
                for item in split_group(rest.rsplit("}", 1)[0]):
                    stack.append(head + item)
                continue
            parts = [p.strip() for p in s.split("::") if p.strip()]
            if len(parts) >= 2 and parts[0] in mods:
                last = parts[-1].split(" as ")[-1].strip()
                names[last] = parts[0]
    return names


def module_of(src: Path, file: Path) -> str | None:
    rel = file.relative_to(src).parts
    if len(rel) == 1:
        return None if rel[0] in ("lib.rs", "main.rs") else rel[0][:-3]
    return rel[0]


def edges_of(src: Path, mods: set[str], names: dict[str, str]) -> dict[str, dict[str, str]]:
    """module -> {module it uses: "file:line" of the first use}."""
    graph: dict[str, dict[str, str]] = {m: {} for m in mods}
    for file in sorted(src.rglob("*.rs")):
        mod = module_of(src, file)
        if mod is None or file.name == "tests.rs" or "tests" in file.relative_to(src).parts[1:-1]:
            continue
        top_level_file = len(file.relative_to(src).parts) == 1 or file.name == "mod.rs" and len(file.relative_to(src).parts) == 2
        text = without_tests(strip_comments(file.read_text()))

        def add(target: str, pos: int) -> None:
            if target != mod and target in mods and target not in graph[mod]:
                line = text.count("\n", 0, pos) + 1
                graph[mod][target] = f"{file.relative_to(ROOT)}:{line}"

        def resolve(first: str) -> str | None:
            if first in mods:
                return first
            return names.get(first)

        for m in USE_GROUP_RE.finditer(text):
            if m.group(1) == "super" and not top_level_file:
                continue
            for item in split_group(m.group(2)):
                first = item.split("::")[0].strip()
                target = resolve(first)
                if target:
                    add(target, m.start())
        for m in PATH_RE.finditer(text):
            kind, prefix, last = m.group(1), m.group(2), m.group(3)
            if kind == "super" and not top_level_file:
                continue
            first = prefix.split("::")[0] if prefix else (last or "")
            target = resolve(first)
            if target:
                add(target, m.start())
    return graph


def find_cycle(graph: dict[str, dict[str, str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def check_cycles() -> list[str]:
    problems = []
    for src in sorted(ROOT.glob("crates/*/src")):
        mods = top_modules(src)
        graph = edges_of(src, mods, reexports(src, mods))
        cycle = find_cycle(graph)
        if cycle:
            steps = [f"  {a} -> {b}  ({graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
            problems.append(f"module cycle in {src.parent.name}:\n" + "\n".join(steps))
    return problems


MOD_DECL_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)


def check_layout_docs() -> list[str]:
    problems = []
    for lib in sorted(ROOT.glob("crates/*/src/lib.rs")):
        text = lib.read_text()
        declared = MOD_DECL_RE.findall(without_tests(text))
        if not declared:
            continue  # a one-file crate: its docs are its layout
        docs = "\n".join(l[3:] for l in text.splitlines() if l.startswith("//!"))
        layout = docs.split("# Layout", 1)
        if len(layout) < 2:
            problems.append(f"{lib.relative_to(ROOT)}: no `# Layout` section in the crate docs")
            continue
        section = re.split(r"\n# ", layout[1], maxsplit=1)[0]
        missing = [m for m in declared
                   if not re.search(rf"\b{m}\b", section)]
        if missing:
            problems.append(f"{lib.relative_to(ROOT)}: `# Layout` does not name: {', '.join(missing)}")
    return problems


def check_api_links_no_whisper() -> list[str]:
    out = subprocess.run(
        ["cargo", "tree", "-p", "sealscribe-api", "-e", "normal", "--prefix", "none"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    hits = sorted({line.split()[0] for line in out.splitlines() if "whisper" in line})
    if hits:
        return ["sealscribe-api links the recogniser: " + ", ".join(hits)
                + " (see `cargo tree -p sealscribe-api -e normal -i whisper-rs`)"]
    return []


def main() -> int:
    problems = check_cycles() + check_layout_docs()
    if "--cycles" not in sys.argv:
        problems += check_api_links_no_whisper()
    for p in problems:
        print(f"check-shape: {p}", file=sys.stderr)
    if not problems:
        print("check-shape: no module cycles, every crate documents its layout, sealscribe-api does not link whisper-rs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
