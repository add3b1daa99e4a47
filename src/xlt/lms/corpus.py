"""A language's LM corpus (Bao et al. 2019, §3.2), from its monolingual text artifact.

``results/text/{lang}.txt`` is one line per sentence, cut into tokens the way the language's
word vectors see them (whitespace, or single characters for Chinese: ``vectors.segmentation``).
Bao et al. tokenise "the corpora of European languages ... by nltk", segment Chinese with LTP
and lowercase everything; an LM corpus here is that text re-tokenised by NLTK's Treebank word
tokenizer (``NLTKWordTokenizer``: punctuation split off words as the CoNLL and UD corpora split
it, so that an LM word and a tagger word are the same string), or left as it is
(``whitespace``: the Chinese text is already in single characters, the unit of MSRA, the
Chinese NER corpus of this benchmark), lowercased, with sentences of ``max_length`` tokens or
more dropped (the paper keeps "sentences containing less than 200 tokens").

The last ``dev_sentences`` kept sentences are held out for the LM's perplexity and never
trained on. Empty lines after tokenisation are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from xlt.atomic import atomic_path
from xlt.errors import InputError

TOKENIZERS = ("nltk", "whitespace")

# The Treebank tokenizer writes double quotes as `` and ''; the task corpora keep '"'.
_QUOTES = {"``": '"', "''": '"'}


@cache
def _nltk_tokenizer():
    from nltk.tokenize import NLTKWordTokenizer  # needs no downloaded data (unlike word_tokenize)

    return NLTKWordTokenizer()


def tokenize(line: str, tokenizer: str) -> list[str]:
    """``line``'s tokens, lowercased."""
    if tokenizer == "whitespace":
        tokens = line.split()
    elif tokenizer == "nltk":
        tokens = [_QUOTES.get(t, t) for t in _nltk_tokenizer().tokenize(line)]
    else:
        raise ValueError(f"unknown LM tokenizer {tokenizer!r} (one of {TOKENIZERS})")
    return [t.lower() for t in tokens]


def read_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file; bad bytes fail naming file and line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(path, number, f"not UTF-8 ({exc.reason})") from exc


def build_corpus(text: str | Path, tokenizer: str, max_length: int, max_sentences: int | None = None,
                 ) -> tuple[list[list[str]], dict]:
    """The tokenised, lowercased sentences of ``text`` shorter than ``max_length`` tokens
    (the first ``max_sentences`` of them, when set), and counts of what was kept."""
    sentences, read, too_long = [], 0, 0
    for _, line in read_lines(text):
        read += 1
        tokens = tokenize(line, tokenizer)
        if not tokens:
            continue
        if len(tokens) >= max_length:
            too_long += 1
            continue
        sentences.append(tokens)
        if max_sentences is not None and len(sentences) >= max_sentences:
            break
    if not sentences:
        raise InputError(text, None, "no sentence left to train a language model on")
    return sentences, {"lines_read": read, "dropped_too_long": too_long, "sentences": len(sentences),
                       "tokens": sum(len(s) for s in sentences)}


def split_dev(sentences: list[list[str]], dev_sentences: int) -> tuple[list[list[str]], list[list[str]]]:
    """(train, dev): the last ``dev_sentences`` are dev, at most a tenth of the corpus."""
    n_dev = min(int(dev_sentences), len(sentences) // 10)
    return sentences[: len(sentences) - n_dev], sentences[len(sentences) - n_dev :]


def write_sentences(path: str | Path, sentences: Iterable[list[str]]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as out:
            for tokens in sentences:
                out.write(" ".join(tokens) + "\n")


def read_sentences(path: str | Path) -> list[list[str]]:
    """An LM corpus file: one whitespace-tokenised sentence per line."""
    sentences = [line.split() for _, line in read_lines(path)]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise InputError(path, None, "an LM corpus file with no sentence")
    return sentences
