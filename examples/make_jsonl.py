"""Write examples/transactions.jsonl: every example of examples/transactions/ as JSON Lines.

One transaction per line, in file-name order, with the keys in the order the YAML file gives
them and dates as ISO strings; the YAML comments (what each example shows) do not survive, the
`description` field does. The YAML files are the source; regenerate after editing them:

    python examples/make_jsonl.py            # rewrite examples/transactions.jsonl
    python examples/make_jsonl.py --check    # exit 1 if it is out of date (CI, tests)

Usage with the CLI: `exportctl evaluate examples/transactions.jsonl --format json` gives one
decision per line, in the same order; `exportctl diff --corpus examples/transactions.jsonl`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "transactions"
TARGET = HERE / "transactions.jsonl"


def example_files(folder: Path = SOURCE) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def jsonl_text(folder: Path = SOURCE) -> str:
    """The JSON Lines text for every example in `folder`."""
    from exportctl import facts

    lines = []
    for f in example_files(folder):
        data = facts.normalise(facts.yaml_load(f.read_text(encoding="utf-8")))
        lines.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "".join(line + "\n" for line in lines)


def main(argv: list[str]) -> int:
    text = jsonl_text()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET.relative_to(HERE.parent)} is out of date: run python examples/make_jsonl.py",
                  file=sys.stderr)
            return 1
        print(f"{TARGET.relative_to(HERE.parent)}: {len(example_files())} transactions, in sync")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {len(example_files())} transactions to {TARGET.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
