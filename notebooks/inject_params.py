"""Papermill-style parameter injection for TypeScript (tslab) notebooks.

papermill has no TypeScript translator, so this does its job: it removes any earlier cell tagged
`injected-parameters`, inserts a new one right after the cell tagged `parameters` (tslab allows
`const` to be declared again in a later cell), and records the values in
`metadata.papermill.parameters` like papermill does.

usage: inject_params.py IN.ipynb OUT.ipynb NAME=VALUE...   (VALUE is JSON if it parses, else a string)
"""
import json
import sys

import nbformat


def ts_literal(value):
    # JSON is valid TypeScript for strings, numbers, booleans, null, arrays and objects.
    return json.dumps(value)


def parse_pairs(pairs):
    params = {}
    for pair in pairs:
        if "=" not in pair:
            sys.exit(f"inject_params: expected NAME=VALUE, got {pair!r}")
        name, raw = pair.split("=", 1)
        if not name.isidentifier():
            sys.exit(f"inject_params: {name!r} is not a valid identifier")
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    return params


def inject(nb, params, where_from="notebook"):
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    where = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if where is None:
        sys.exit(f"inject_params: {where_from} has no cell tagged 'parameters'")
    lines = ["// Parameters injected by notebooks/run.sh (override the defaults above)."]
    lines += [f"const {k} = {ts_literal(v)};" for k, v in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(where + 1, cell)
    nb.metadata.setdefault("papermill", {})["parameters"] = params
    return nb


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    src, dst = argv[1], argv[2]
    nb = nbformat.read(src, as_version=4)
    inject(nb, parse_pairs(argv[3:]), src)
    nbformat.write(nb, dst)


if __name__ == "__main__":
    main(sys.argv)
