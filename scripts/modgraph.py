#!/usr/bin/env python3
"""Print kubefix's crate-internal module dependency graph; exit 1 if it has a cycle.

    scripts/modgraph.py            the graph (one line per module) and its cycles
    scripts/modgraph.py --dot      the graph in Graphviz dot

A module depends on another when its non-test code names it: `use crate::…`, `super::…`,
`self::…`, a path through a child module (`plan::read`), or through a name a `use` bound to
a module (`use crate::rules::{self, …}` then `rules::names::…`). `mod x;` declarations and
`pub use` re-exports of a module's own descendants are structure, not dependencies, and `#[cfg(test)]` items are left out (tests may reach
anywhere). A parent naming its child in code is a dependency like any other, so a
registry in `rules/mod.rs` that names each rule, while each rule names `super::Finding`, is
a cycle: the shared types live below the registry instead.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    if parts == ["main"]:
        return None  # the binary is its own crate
    return tuple(parts)


def strip(text):
    # Comments (line and block) and string/char literals, roughly but well enough.
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = []
    for line in text.split("\n"):
        line = re.sub(r'r#*"[^"]*"#*', '""', line)
        line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
        line = re.sub(r"'(?:\\.|[^'\\])'", "''", line)
        i = line.find("//")
        out.append(line if i < 0 else line[:i])
    return "\n".join(out)


def drop_test_items(text):
    """Remove items under `#[cfg(test)]` (a `mod x;`, or an item with a braced body)."""
    out = []
    i = 0
    pat = re.compile(r"#\[cfg\(test\)\]")
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i:m.start()])
        j = m.end()
        # The item ends at `;` before any `{`, or at the matching `}`.
        semi = text.find(";", j)
        brace = text.find("{", j)
        if brace < 0 or (0 <= semi < brace):
            i = semi + 1
            continue
        depth = 0
        k = brace
        while k < len(text):
            if text[k] == "{":
                depth += 1
            elif text[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1
    return "".join(out)


def use_tree(text, i, prefix, acc):
    """Parse a path (and `{…}` groups) starting at text[i]; append full paths to acc."""
    segs = list(prefix)
    while True:
        m = re.match(r"\s*(\w+)\s*", text[i:])
        if not m:
            break
        segs.append(m.group(1))
        i += m.end()
        if text.startswith("::", i):
            i += 2
            m2 = re.match(r"\s*\{", text[i:])
            if m2:
                i += m2.end()
                while True:
                    m3 = re.match(r"\s*([},])", text[i:])
                    if m3 and m3.group(1) == "}":
                        i += m3.end()
                        break
                    if m3:
                        i += m3.end()
                        continue
                    i = use_tree(text, i, segs, acc)
                return i
            continue
        break
    acc.append(segs)
    return i


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, n), ROOT)
                mod = module_of(rel)
                if mod is not None:
                    files[mod] = os.path.join(dirpath, n)
    modules = set(files)
    # Test-only modules (declared `#[cfg(test)] mod x;`) are left out.
    test_only = set()
    for mod, path in files.items():
        src = open(path).read()
        for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", src):
            test_only.add(mod + (m.group(1),))
    modules -= {m for m in modules if any(m[: len(t)] == t for t in test_only)}

    def name(m):
        return "crate" if not m else "::".join(m)

    edges = {m: set() for m in modules}
    for mod in sorted(modules):
        text = drop_test_items(strip(open(files[mod]).read()))
        paths = []
        reexports = []
        spans = []
        aliases = {}
        # `use` statements first: they bind names to modules.
        for m in re.finditer(r"(\bpub(?:\([^)]*\))?\s+)?\buse\s+", text):
            acc = []
            end = use_tree(text, m.end(), [], acc)
            if m.group(1):
                reexports.extend(acc)
                spans.append((m.start(), end))
            else:
                paths.extend(acc)
            for p in acc:
                if p and p[-1] == "self":
                    aliases[p[-2]] = p[:-1]
                elif p:
                    aliases.setdefault(p[-1], p)
        # Every other path with at least one `::`.
        for m in re.finditer(r"(?<![:\w])(\w+)\s*::", text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            acc = []
            use_tree(text, m.start(), [], acc)
            paths.extend(acc)

        def resolve(p):
            if not p:
                return None
            head, rest = p[0], p[1:]
            if head == "crate":
                base = ()
            elif head == "super":
                base = mod[:-1]
                while rest and rest[0] == "super":
                    base, rest = base[:-1], rest[1:]
            elif head == "self":
                base = mod
            elif mod + (head,) in modules:
                base, rest = mod + (head,), rest
            elif head in aliases and aliases[head][0] in ("crate", "super", "self"):
                r = resolve(aliases[head])
                if r is None:
                    return None
                base = r
            else:
                return None
            while rest and base + (rest[0],) in modules:
                base, rest = base + (rest[0],), rest[1:]
            return base

        for p in paths:
            t = resolve(p)
            if t is not None and t != mod and t in modules:
                edges[mod].add(t)
        # A re-export of a descendant is the module's public face, not a use of it; a
        # re-export from anywhere else is a dependency like any `use`.
        for p in reexports:
            t = resolve(p)
            if t is not None and t != mod and t in modules and t[: len(mod)] != mod:
                edges[mod].add(t)

    # Tarjan's strongly connected components.
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    cycles = [sorted(c) for c in sccs if len(c) > 1]

    if "--dot" in sys.argv:
        print("digraph kubefix {")
        for m in sorted(modules):
            for t in sorted(edges[m]):
                print(f'  "{name(m)}" -> "{name(t)}";')
        print("}")
    else:
        for m in sorted(modules):
            deps = ", ".join(name(t) for t in sorted(edges[m]))
            print(f"{name(m)} -> {deps}" if deps else f"{name(m)}")
        print()
        print(f"{len(modules)} modules, {sum(len(e) for e in edges.values())} edges, "
              f"{len(cycles)} cycle(s)")
        for c in cycles:
            members = set(c)
            inner = sorted((name(a), name(b)) for a in c for b in edges[a] if b in members)
            print(f"cycle: {', '.join(name(m) for m in c)}")
            for a, b in inner:
                print(f"    {a} -> {b}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
