"""Read sd-scripts' argument parsers into tests/fixtures/sdscripts_args.json.

sd-scripts' parsers are built by ``setup_parser()`` in each training script, which calls
``add_*_arguments(parser)`` helpers in ``library/``. Importing them needs torch, diffusers and
a GPU stack, so this reads the source with ``ast`` instead: from each script's
``setup_parser`` it follows every helper it calls (transitively) and records each
``parser.add_argument(...)``: its option strings, ``action``, ``nargs``, ``type`` and literal
``choices``. Branches are all taken (``if support_dreambooth:`` ...), so the result is a
superset of what one parser accepts; a flag missing here is missing in sd-scripts.

    python -m worker.tools.gen_sdscripts_args --git-dir /path/to/sd-scripts.git --ref v0.10.1

writes the fixture with the commit it was read from.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from pathlib import Path
from typing import Any

SCRIPTS = ("train_network.py", "sdxl_train_network.py", "flux_train_network.py")
OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sdscripts_args.json"


class Source:
    def __init__(self, git_dir: str, ref: str) -> None:
        self.git_dir, self.ref = git_dir, ref
        self.commit = self._git("rev-parse", f"{ref}^{{commit}}").strip()
        self._trees: dict[str, ast.Module] = {}

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", self.git_dir, *args], check=True,
                              capture_output=True, text=True).stdout

    def module(self, path: str) -> ast.Module:
        if path not in self._trees:
            self._trees[path] = ast.parse(self._git("show", f"{self.commit}:{path}"))
        return self._trees[path]

    def library(self) -> list[str]:
        names = self._git("ls-tree", "--name-only", self.commit, "library/").split()
        return [n for n in names if n.endswith(".py")]


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _module_path(alias: str, src: Source) -> str | None:
    for cand in (f"library/{alias}.py", f"{alias}.py"):
        try:
            src.module(cand)
            return cand
        except subprocess.CalledProcessError:
            continue
    return None


def _literal(node: ast.AST | None, consts: dict[str, Any]) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        if isinstance(node, ast.Name) and node.id in consts:
            return consts[node.id]
        return "<not literal>"


def _consts(tree: ast.Module) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in tree.body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0],
                                                                              ast.Name):
            try:
                out[n.targets[0].id] = ast.literal_eval(n.value)
            except ValueError:
                pass
    return out


def collect(src: Source, path: str, func: str, seen: set[tuple[str, str]],
            args: dict[str, dict[str, Any]]) -> None:
    if (path, func) in seen:
        return
    seen.add((path, func))
    tree = src.module(path)
    fn = _functions(tree).get(func)
    if fn is None:
        raise SystemExit(f"{path}: no function {func}")
    consts = _consts(tree)
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "add_argument":
            opts = [a.value for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            typ = kw.get("type")
            spec = {"options": opts,
                    "action": _literal(kw.get("action"), consts),
                    "nargs": _literal(kw.get("nargs"), consts),
                    "type": typ.id if isinstance(typ, ast.Name) else
                    (ast.unparse(typ) if typ is not None else None),
                    "choices": _literal(kw.get("choices"), consts),
                    "defined_in": f"{path}:{node.lineno}"}
            for o in opts:
                if o.startswith("--"):
                    args.setdefault(o, spec)
            continue
        # a helper called with the parser: parser-building functions are followed
        name = None
        target = path
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            name = f.attr
            target = _module_path(f.value.id, src) or ""
        elif isinstance(f, ast.Name):
            name = f.id
        if not name or not (name.startswith("add_") or name == "setup_parser"):
            continue
        if name != "setup_parser" and not any(isinstance(a, ast.Name) and a.id == "parser"
                                              for a in node.args):
            continue
        if target and name in _functions(src.module(target)):
            collect(src, target, name, seen, args)
            continue
        for lib in src.library():  # a bare name imported from library/
            if name in _functions(src.module(lib)):
                collect(src, lib, name, seen, args)
                break
        else:
            raise SystemExit(f"{path}: cannot find {name}")


def generate(git_dir: str, ref: str) -> dict[str, Any]:
    src = Source(git_dir, ref)
    scripts = {}
    for script in SCRIPTS:
        args: dict[str, dict[str, Any]] = {}
        collect(src, script, "setup_parser", set(), args)
        scripts[script] = dict(sorted(args.items()))
    return {"repository": "https://github.com/kohya-ss/sd-scripts", "ref": ref,
            "commit": src.commit, "generator": "worker/tools/gen_sdscripts_args.py",
            "scripts": scripts}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--git-dir", required=True, help="a clone of kohya-ss/sd-scripts")
    p.add_argument("--ref", required=True, help="the tag or commit worker/Dockerfile pins")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    data = generate(a.git_dir, a.ref)
    a.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"{a.out}: {sum(len(v) for v in data['scripts'].values())} flags from "
          f"{data['ref']} ({data['commit']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
