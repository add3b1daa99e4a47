"""Parse a paper's printed table cell ("75.93 ± 0.81", "78.93 (-0.38)", "x", ...) into numbers.

The papers print scores in many ways; the table files keep the text verbatim (contracts §6) and
this module is the single place that knows how to read it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# "14,987" (thousands separators, UniTrans Table 1), "74.39", ".94", "0." (van der Heijden).
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)"
_MISSING_TEXTS = {"", "-", "—", "–", "n/a"}
_FAILED_TEXTS = {"x", "×"}

# Value ± std, with or without parentheses: "75.93 ± 0.81", "86.40±.17", "76.34 (± 0.96)".
_WITH_STD = re.compile(rf"^(?P<value>{_NUMBER})\s*\(?\s*(?:±|\+/-|\+-)\s*(?P<std>{_NUMBER})\s*\)?$")
# Value and a signed change in parentheses: "78.93 (-0.38)", "75.23 (0.41)" (UniTrans ablation).
_WITH_DELTA_IN_PARENS = re.compile(rf"^(?P<value>{_NUMBER})\s*\(\s*(?P<delta>{_NUMBER})\s*\)$")
# Value glued to a signed change: "0.330+0.096", "0.884-.003", "0.502-0." (van der Heijden T3).
_WITH_GLUED_DELTA = re.compile(
    r"^(?P<value>\d*\.?\d+|\d+\.)(?P<sign>[+-])(?P<delta>\d+(?:\.\d*)?|\.\d+)$"
)
# Value followed by a free remark: "342906 (~13↓)", "395581 (=1x)" (Bari Table 4 #params).
_WITH_REMARK = re.compile(rf"^(?P<value>{_NUMBER})\s*\((?P<remark>[^)]*)\)$")
_PLAIN = re.compile(rf"^(?P<value>{_NUMBER})$")
_FOOTNOTE = re.compile(r"<sup>.*?</sup>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_FOOTNOTE_MARKS = "†‡*§¶"


@dataclass(frozen=True)
class Reported:
    """One printed cell. `value` is None for missing/failed cells.

    `second` is the number after "/" in "a/b" cells (van der Heijden: zero-shot/monolingual);
    `delta` is a printed change ("(-0.38)", "+0.096"); `std` a printed standard deviation.
    """

    raw: str
    value: float | None = None
    std: float | None = None
    delta: float | None = None
    second: float | None = None
    failed: bool = False
    missing: bool = False

    @property
    def has_value(self) -> bool:
        return self.value is not None


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def clean(text: str) -> str:
    """Drop markup and footnote marks that a transcription may have kept."""
    text = _FOOTNOTE.sub("", text)
    text = _TAG.sub("", text).replace("**", "")
    return text.strip().rstrip(_FOOTNOTE_MARKS).strip()


def _parse_single(text: str, raw: str) -> Reported:
    """A cell without "/" (the "a/b" form is split before this)."""
    if text.lower() in _MISSING_TEXTS:
        return Reported(raw=raw, missing=True)
    if text.lower() in _FAILED_TEXTS:
        return Reported(raw=raw, failed=True)
    if match := _PLAIN.match(text):
        return Reported(raw=raw, value=_number(match["value"]))
    if match := _WITH_STD.match(text):
        return Reported(raw=raw, value=_number(match["value"]), std=_number(match["std"]))
    if match := _WITH_DELTA_IN_PARENS.match(text):
        return Reported(raw=raw, value=_number(match["value"]), delta=_number(match["delta"]))
    if match := _WITH_GLUED_DELTA.match(text):
        delta = _number(match["delta"])
        return Reported(raw=raw, value=_number(match["value"]),
                        delta=-delta if match["sign"] == "-" else delta)
    if match := _WITH_REMARK.match(text):
        return Reported(raw=raw, value=_number(match["value"]))
    raise ValueError(f"cannot read reported cell {raw!r}")


def parse(text: str) -> Reported:
    """Read one printed cell; raises ValueError for text that is no known number format."""
    raw = text
    text = clean(text)
    if "/" in text and text.lower() != "n/a":
        first_text, _, second_text = text.partition("/")
        first = _parse_single(first_text.strip(), raw)
        second = _parse_single(second_text.strip(), raw)
        return Reported(raw=raw, value=first.value, std=first.std, delta=first.delta,
                        second=second.value, failed=first.failed, missing=first.missing)
    return _parse_single(text, raw)
