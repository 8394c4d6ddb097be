"""What the vector generators share: writing their files, or checking them.

Each generator (tools/gen-*-vectors.py) builds a list of file objects with
`name`, `cases` and `document()`; write_or_check() writes them as pretty
JSON, or with --check reports files that differ from what would be written.
"""
import json
import os
import sys


def write_or_check(files, out_dir, generator):
    check = "--check" in sys.argv[1:]
    stale = []
    os.makedirs(out_dir, exist_ok=True)
    for f in files:
        path = os.path.join(out_dir, f.name + ".json")
        text = json.dumps(f.document(), indent=2, ensure_ascii=False) + "\n"
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
    if stale:
        print(f"stale vector files (run tools/{generator}):", *stale, sep="\n  ")
        return 1
    for f in files:
        valid = sum(1 for x in f.cases if x["valid"])
        print(f"{f.name}.json: {valid} valid, {len(f.cases) - valid} invalid")
    return 0
