"""Fails (exit 1) when an executed notebook holds an error output or a cell whose stderr shows a
TypeScript/JavaScript error, and prints what it found. usage: check_outputs.py NB.ipynb..."""
import re
import sys

import nbformat

ERROR_RE = re.compile(r"(^|\n)\s*(\d+:\d+ - |[A-Za-z]*Error: |Uncaught )")


def problems(path):
    nb = nbformat.read(path, as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr" and ERROR_RE.search(out.get("text", "")):
                found.append(f"cell {i}: stderr: {out.get('text', '')[:500]}")
    return found


def main(paths):
    bad = 0
    for p in paths:
        found = problems(p)
        for f in found:
            print(f"{p}: {f}", file=sys.stderr)
        bad += len(found)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
