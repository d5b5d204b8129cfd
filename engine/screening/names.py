"""Names to comparable tokens: the same folding as set membership (values.norm: NFKC, look-alike
letters, accents, case, punctuation), Chinese script to pinyin, company-form words dropped,
and the variants a listed name is known by (with and without a bracketed abbreviation)."""

from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache

from ..values import norm


@lru_cache(maxsize=None)
def _cjk() -> re.Pattern:
    """Runs of Chinese characters; compiled on first use (a start whose names are all ASCII never
    needs it: its class is a few ms of a cold start)."""
    return re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


_BRACKET = re.compile(r"\s*[(\uff08\[]([^()\uff08\uff09\[\]]*)[)\uff09\]]\s*")
_DIGIT = re.compile(r"\d")
_ORDINAL_WORDS = {w: str(i) for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)}
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")   # 43rd -> 43


@lru_cache(maxsize=65536)
def _pinyin(run: str) -> str:
    """Chinese characters to toneless pinyin syllables, space separated."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(run, style=Style.NORMAL, errors="ignore"))


Name = namedtuple("Name", ["text", "tokens", "script"], module=__name__)
Name.__doc__ = """One spelling of a name, as tokens ready to compare: `text` as written, `tokens`
folded (company forms and stop words removed), `script` latin or han (it held Chinese
characters). A named tuple: every party of a batch makes one or more, and a tuple is the
cheapest immutable record."""


class Normaliser:
    """Tokenises names with the parameters' company forms and stop words."""

    def __init__(self, params):
        self.stop = params.stop_words
        forms = []
        for f in params.company_forms:
            if _cjk().search(f):
                forms.append(tuple(_pinyin(f).split()))
            else:
                forms.append(tuple(norm(f).split()))
        # longest first, so "co ltd" goes before "co"
        self.forms = sorted({f for f in forms if f}, key=len, reverse=True)
        self.forms_at: dict = {}               # first word -> the forms it starts, longest first
        for f in self.forms:
            self.forms_at.setdefault(f[0], []).append(f)
        self.cjk_forms = sorted((f for f in params.company_forms if _cjk().search(f)), key=len, reverse=True)

    @lru_cache(maxsize=65536)
    def tokens(self, text: str) -> tuple:
        """Folded tokens of one spelling (without company forms, unless nothing else is left)."""
        s = text
        if not s.isascii():                    # (ASCII holds no Chinese script)
            for f in self.cjk_forms:           # 有限公司 at the end of a Chinese name
                if s.endswith(f) and len(s) > len(f):
                    s = s[: -len(f)]
            s = _cjk().sub(lambda m: " " + _pinyin(m.group(0)) + " ", s)
        stop, words = self.stop, _ORDINAL_WORDS
        # (an ordinal number starts with a digit: the others skip the regex)
        toks = [words.get(t) or (_ORDINAL.sub(r"\1", t) if t[0].isdigit() else t)
                for t in norm(s).split() if t not in stop]
        kept = self._strip_forms(toks)
        return tuple(kept or toks)

    def _strip_forms(self, toks: list) -> list:
        out, i = [], 0
        at = self.forms_at
        while i < len(toks):
            for f in at.get(toks[i], ()):
                if tuple(toks[i:i + len(f)]) == f:
                    i += len(f)
                    break
            else:
                out.append(toks[i])
                i += 1
        return out

    def variants(self, text: str) -> list:
        """The spellings a name stands for: as written; without a bracketed part; the bracketed
        abbreviation in place of the words it abbreviates ("China Academy of Space Technology
        (CAST) 513 Research Institute" -> "CAST 513 Research Institute")."""
        out = [text]
        m = _BRACKET.search(text)
        if m:
            inner = m.group(1).strip()
            before, after = text[: m.start()].strip(), text[m.end():].strip()
            out.append(f"{before} {after}".strip())
            words = before.split()
            if inner and " " not in inner and len(inner) <= 8:
                # the longest tail of `before` whose initials spell the abbreviation
                for k in range(len(words)):
                    tail = [w for w in words[k:] if norm(w) not in self.stop]
                    if tail and "".join(w[0] for w in tail).casefold() == inner.casefold():
                        out.append(" ".join(words[:k] + [inner] + ([after] if after else [])).strip())
                        break
        seen, names = set(), []
        for v in out:
            toks = self.tokens(v)
            if toks and toks not in seen:
                seen.add(toks)
                names.append(Name(v, toks, "latin" if v.isascii() or not _cjk().search(v) else "han"))
        return names


@lru_cache(maxsize=65536)
def is_number(tok: str) -> bool:
    return bool(_DIGIT.search(tok))
