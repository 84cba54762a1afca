"""Shared by the notebook generators (make_demo_notebook.py, make_python_notebook.py): builds an
nbformat 4 notebook from (kind, source) cells with stable cell ids, and the command line that
writes it, checks it is up to date (--check, run by ctest) or lists the figures it draws."""
from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
from nbformat import v4


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        cell = v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source)
        cell["id"] = f"cell-{i:02d}"  # stable ids: regenerating gives the same file
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main(argv: list[str], *, cells: list[tuple[str, str]], figures: list[str],
         default_output: pathlib.Path, description: str, script: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-o", "--output", default=str(default_output))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the output file differs from what would be written")
    parser.add_argument("--figures", action="store_true", help="print the figure file names")
    args = parser.parse_args(argv)
    if args.figures:
        print("\n".join(figures))
        return 0
    text = nbformat.writes(build(cells), version=4)
    out = pathlib.Path(args.output)
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        if not same:
            print(f"{out} is not what {script} writes: regenerate it", file=sys.stderr)
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0
