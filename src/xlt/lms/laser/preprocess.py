"""LASER's preprocessing and its joint BPE vocabulary.

LASER (Artetxe & Schwenk 2019; its ``embed.py``) normalises punctuation with the Moses
script ``normalize-punctuation.perl``, lower-cases, and splits words into byte-pair units
learned jointly over all languages (fastBPE, 50k codes for LASER1). van der Heijden et al.
apply "only punctuation normalization and lower casing" to the tagging data, so the tagger's
words and the encoder's training text go through the same function, :func:`normalize_word`.

The BPE is learned with Hugging Face ``tokenizers`` (the maintained BPE learner in our
stack) over pre-tokenised words: a word is never merged with its neighbour, and every
piece knows the word it came from (``word_ids``), which the word features pool over.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from xlt.lms.laser.fastbpe import KIND as FASTBPE_KIND
from xlt.lms.laser.fastbpe import FastBPETokenizer

if TYPE_CHECKING:
    from sacremoses import MosesPunctNormalizer

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
#: Ids 0-3, in this order, in every vocabulary this module learns.
SPECIALS = (PAD, UNK, BOS, EOS)


@lru_cache(maxsize=None)
def _normalizer(lang: str) -> "MosesPunctNormalizer":
    # Moses' language-specific rules exist for en/de/es/fr/cs; others get the common ones.
    # Imported here: sacremoses compiles its tokenizer regexes on import (~0.3 s), which every
    # tagger job reading the encoder would pay though only normalisation runs.
    from sacremoses import MosesPunctNormalizer

    return MosesPunctNormalizer(lang=lang if lang in ("en", "de", "es", "fr", "cs") else "en")


@lru_cache(maxsize=200_000)
def normalize_word(word: str, lang: str) -> str:
    """One token, punctuation-normalised and lower-cased; still one token: spaces the
    normaliser inserts are removed, and a token it would empty keeps its lower-cased self."""
    text = "".join(_normalizer(lang).normalize(word).split())
    return (text or word).lower()


def normalize_sentence(words: Sequence[str], lang: str) -> list[str]:
    return [normalize_word(w, lang) for w in words]


def normalize_line(line: str, lang: str) -> list[str]:
    """A line of running text as normalised words (whitespace-split after normalising)."""
    return _normalizer(lang).normalize(line).lower().split()


def learn_bpe(sentences: Iterable[Sequence[str]], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """A BPE vocabulary of ``vocab_size`` units (specials included) over normalised words.

    No continuing-subword prefix (fastBPE's "@@", WordPiece's "##"): with one, the `tokenizers`
    trainer numbers the prefixed units in hash-map order, which changes from process to process
    and breaks ties between equally frequent merges differently (huggingface/tokenizers#1794;
    measured here: three runs on the same text, three vocabularies). Without it the units are
    numbered from the sorted alphabet and training is deterministic; a unit's word is known
    anyway (``encode_words`` returns each piece's word)."""
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  special_tokens=list(SPECIALS), show_progress=False)
    tokenizer.train_from_iterator((" ".join(s) for s in sentences), trainer=trainer)
    for index, token in enumerate(SPECIALS):
        if tokenizer.token_to_id(token) != index:
            raise RuntimeError(f"BPE: special {token!r} got id {tokenizer.token_to_id(token)}, not {index}")
    return tokenizer


def load_bpe(path: str | Path) -> Tokenizer | FastBPETokenizer:
    """The encoder's BPE file: a ``tokenizers`` file (the stand-in's), or LASER1's fastBPE
    codes, vocabulary and dictionary (``kind: fastbpe``, :mod:`xlt.lms.laser.fastbpe`)."""
    with open(path, encoding="utf-8") as handle:
        head = handle.read(64)
    if f'"kind": "{FASTBPE_KIND}"' in head:
        return FastBPETokenizer.from_file(path)
    return Tokenizer.from_file(str(path))


def encode_words(tokenizer: Tokenizer | FastBPETokenizer, words: Sequence[str]) -> tuple[list[int], list[int]]:
    """(piece ids, index of the word each piece belongs to) of normalised ``words``. Every
    word gets at least one piece (an unknown one: ``<unk>``)."""
    if not words:
        return [], []
    if isinstance(tokenizer, FastBPETokenizer):
        return tokenizer.encode_words(words)
    encoding = tokenizer.encode(list(words), is_pretokenized=True, add_special_tokens=False)
    ids, owners = list(encoding.ids), list(encoding.word_ids)
    missing = set(range(len(words))) - set(owners)
    if missing:  # a word of nothing but whitespace: it still needs a position to pool
        for index in sorted(missing):
            at = next((i for i, o in enumerate(owners) if o > index), len(owners))
            ids.insert(at, tokenizer.token_to_id(UNK))
            owners.insert(at, index)
    return ids, owners
