"""Test helpers shared by the unit tests and the workflow test fixture.

``make_tiny_encoder`` writes a randomly initialised two-layer BERT and a WordPiece tokenizer
to a directory in Hugging Face layout (``make_tiny_xlm_encoder`` an XLM with language
embeddings and its slow BPE tokenizer), so encoder-based code runs offline in seconds and
never depends on downloaded weights. ``paired_crfs`` gives xlt's CRF and pytorch-crf's with
the same scores (the parity test and ``benchmarks/crf_benchmark.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_wordpiece_vocab(words: Iterable[str]) -> list[str]:
    """Special tokens, the given words, then every character alone and as a ``##`` suffix.

    With all characters present, a word that is not in the vocabulary is split into several
    pieces instead of becoming [UNK], which is what tests of subword alignment need.
    """
    words = sorted(set(words))
    chars = sorted({ch for word in words for ch in word})
    vocab = [*SPECIAL_TOKENS, *words, *chars, *(f"##{ch}" for ch in chars)]
    return list(dict.fromkeys(vocab))  # dedupe (a one-letter word is also a char), keep order


def make_tiny_encoder(
    path: str | Path,
    words: Iterable[str],
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    seed: int = 0,
) -> Path:
    """Save a tiny random ``BertModel`` and its fast tokenizer under ``path``; return ``path``.

    The tokenizer keeps case (no lowercasing), like multilingual cased BERT. Same arguments
    give the same weights (seeded), so tests built on it are deterministic.
    """
    from transformers import BertConfig, BertModel, BertTokenizer  # slow import: only here

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = tiny_wordpiece_vocab(words)
    tokenizer = BertTokenizer(vocab={tok: i for i, tok in enumerate(vocab)}, do_lower_case=False)
    tokenizer.save_pretrained(path)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=128,
        pad_token_id=0,
    )
    with torch.random.fork_rng():  # seed the weights without disturbing the caller's RNG
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(path)
    return path


XLM_SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<unk>", *(f"<special{i}>" for i in range(10))]


def make_tiny_xlm_encoder(
    path: str | Path,
    words: Iterable[str],
    languages: Iterable[str],
    *,
    hidden: int = 16,
    layers: int = 2,
    heads: int = 2,
    seed: int = 0,
) -> Path:
    """Save a tiny random ``XLMModel`` with language embeddings for ``languages`` and its slow
    BPE tokenizer (lower-casing, accents removed, as xlm-mlm-tlm-xnli15-1024's) under
    ``path``; return ``path``. The BPE has no merges: every word becomes its letters, the last
    one marked ``</w>``, so words of several pieces are the rule."""
    import json

    from transformers import XLMConfig, XLMModel, XLMTokenizer  # slow import: only here

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    chars = sorted({ch for word in words for ch in word.lower()})
    vocab = list(dict.fromkeys([*XLM_SPECIAL_TOKENS, *chars, *(f"{ch}</w>" for ch in chars)]))
    (path / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(vocab)}))
    (path / "merges.txt").write_text("#version: 0.2\n")
    lang2id = {lang: i for i, lang in enumerate(sorted(set(languages)))}
    id2lang = {i: lang for lang, i in lang2id.items()}
    tokenizer = XLMTokenizer(vocab_file=str(path / "vocab.json"), merges_file=str(path / "merges.txt"),
                             lang2id=lang2id, id2lang=id2lang, do_lowercase_and_remove_accent=True)
    tokenizer.save_pretrained(path)
    config = XLMConfig(vocab_size=len(vocab), emb_dim=hidden, n_layers=layers, n_heads=heads,
                       n_langs=len(lang2id), use_lang_emb=True, lang2id=lang2id, id2lang=id2lang,
                       max_position_embeddings=128, pad_token_id=vocab.index("<pad>"),
                       bos_token_id=vocab.index("<s>"), eos_token_id=vocab.index("</s>"))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = XLMModel(config)
    model.save_pretrained(path)
    return path


def paired_crfs(num_tags: int, seed: int):
    """``(xlt CRF, pytorch-crf CRF)`` holding the same transition, start and end scores.

    pytorch-crf (``torchcrf``) is a test dependency, imported here only.
    """
    import torchcrf

    from xlt.models.crf import CRF

    torch.manual_seed(seed)
    ours = CRF(num_tags)
    theirs = torchcrf.CRF(num_tags, batch_first=True)
    with torch.no_grad():
        theirs.transitions.copy_(ours.transitions)
        theirs.start_transitions.copy_(ours.start_transitions)
        theirs.end_transitions.copy_(ours.end_transitions)
    return ours, theirs
