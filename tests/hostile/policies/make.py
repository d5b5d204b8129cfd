"""Writes the hostile policy corpus (one folder per input, each a policy folder) into a target
folder. Generated, not stored: several inputs are megabytes, and symlinks do not travel in git."""

from __future__ import annotations

import os
from pathlib import Path

H = 'regime demo "Demo" binding version "1" source "Demo"\napplies when true\n'
R = 'rule demo.r "r" cite "c" when {} then prohibited\n'


def texts() -> dict[str, str]:
    """name -> policy text; every one must give a located exit 2 (or 0/1), never a crash or hang."""
    return {
        "parens-200": H + "define x = " + "(" * 200 + "1" + ")" * 200 + "\n",
        "braces-200": H + "define x = " + "{" * 200 + "}" * 200 + "\n",
        "not-chain": H + R.format("not " * 3000 + "true"),
        "minus-chain": H + "define x = " + "- " * 3000 + "1\n",
        "arith-chain": H + "define x = " + " + ".join(["1"] * 20000) + "\n",
        "and-chain": H + R.format(" and ".join(["true"] * 5000)),
        "quantifier-nest": H + R.format("any a in items: " * 500 + "true"),
        "escape-x": H + 'define x = "\\x41"\n',
        "escape-u": H + 'define x = "\\u00e9"\n',
        "escape-N": H + 'define x = "\\N{LATIN SMALL LETTER E WITH ACUTE}"\n',
        "escape-trailing": H + 'define x = "abc\\\\\\"\n',
        "number-5000-digits": H + "define x = " + "9" * 5000 + "\n",
        "string-500k": H + 'define x = "' + "a" * 500_000 + '"\n',
        "file-2MB": H + "# padding\n" * 200_000,
        "string-20k": H + 'define x = "' + "a" * 20_000 + '"\n',
        "many-declarations": H + "".join(f"define d{i} = {i}\n" for i in range(6000)),
        "set-members-20k": H + "set s = {" + ", ".join(f'"m{i}"' for i in range(20_000)) + "}\n",
        "set-self": H + "set a = a + {FR}\n" + R.format("destination in a"),
        "set-cycle": H + "set a = b + {FR}\nset b = a\n" + R.format("destination in a"),
        "define-self": H + "define f(x) = f(x)\n" + R.format("f(1)"),
        "define-mutual": H + "define f(x) = g(x)\ndefine g(x) = f(x)\n" + R.format("f(1)"),
        "define-noparam-self": H + "define f = f + 1\n" + R.format("f > 1"),
        "define-chain-1500": H + "define d0 = 1\n" + "".join(f"define d{i} = d{i - 1} + 1\n" for i in range(1, 1500))
        + R.format("d1499 > 3"),
        "define-param-chain-1500": H + "define d0(x) = x\n"
        + "".join(f"define d{i}(x) = d{i - 1}(x)\n" for i in range(1, 1500)) + R.format("d1499(1) > 3"),
        "country-typo": H + 'set allies "Allied countries" = {FR, UK}\n' + R.format("destination in allies"),
        "nul-bytes": H + "define x = 1\0\0\n",
        "binary-junk": "\x00\x01\x02\xff" * 1000,
        "empty": "",
        "huge-line-comment": H + "#" + "x" * 500_000 + "\n",
        "date-invalid": H + R.format("as_of > 2024-02-30"),
        "unterminated-string": H + 'define x = "abc\n',
    }


def write(target: Path) -> list[Path]:
    """Each input as `target/NAME/demo/demo.policy`, plus folders with hostile links. Returns the roots."""
    roots = []
    for name, text in texts().items():
        root = target / name
        (root / "demo").mkdir(parents=True, exist_ok=True)
        (root / "demo" / "demo.policy").write_text(text, encoding="utf-8", errors="surrogateescape")
        roots.append(root)
    # a `use` cycle between two regimes
    root = target / "use-cycle"
    for a, b in (("a", "b"), ("b", "a")):
        (root / a).mkdir(parents=True, exist_ok=True)
        (root / a / f"{a}.policy").write_text(
            f'regime {a} "{a}" binding version "1" source "s"\nuse {b}\nset x = {b}.x\n', encoding="utf-8")
    roots.append(root)
    # links: to /, to the folder itself (a loop), broken
    root = target / "links"
    (root / "demo").mkdir(parents=True, exist_ok=True)
    (root / "demo" / "demo.policy").write_text(H, encoding="utf-8")
    for name, to in (("root", "/"), ("loop", ".."), ("broken", "nowhere")):
        link = root / "demo" / name
        if not link.is_symlink():
            os.symlink(to, link)
    os.symlink("/", root / "up") if not (root / "up").is_symlink() else None
    roots.append(root)
    return roots
