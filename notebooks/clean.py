"""Makes notebooks fit to commit: removes cells tagged `injected-parameters` and the papermill
parameter record (they pin one machine's budget, backend and data folder), and reports any
absolute path left in a cell's source or outputs (exit 1), since a committed notebook must rerun
wherever it is opened.

usage: clean.py NB.ipynb...   (rewrites each file in place; --check only reports)
"""
import re
import sys

import nbformat

# An absolute path of a machine (a home, a temp folder, a mount), not a URL.
ABS_PATH_RE = re.compile(r"(?<![\w:/.])/(?:work|home|root|tmp|Users|mnt|scratch|data|var|opt|srv)/[\w.-]+")


def machine_paths(nb):
    found = []
    for i, cell in enumerate(nb.cells):
        texts = [cell.get("source", "")]
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            for mime, v in out.get("data", {}).items():
                if isinstance(v, str) and not mime.startswith("image/"):
                    texts.append(v)
        for t in texts:
            for m in ABS_PATH_RE.finditer(t if isinstance(t, str) else "".join(t)):
                found.append(f"cell {i}: {m.group(0)}")
    for m in ABS_PATH_RE.finditer(str(nb.metadata)):
        found.append(f"metadata: {m.group(0)}")
    return found


def clean(nb):
    before = len(nb.cells)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    return before - len(nb.cells)


def main(argv):
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    if not paths:
        sys.exit(__doc__)
    bad = 0
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        removed = clean(nb)
        if removed and check:
            print(f"{p}: {removed} injected-parameters cell(s)", file=sys.stderr)
            bad += 1
        elif removed or not check:
            nbformat.write(nb, p)
        for f in machine_paths(nb):
            print(f"{p}: machine path {f}", file=sys.stderr)
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
