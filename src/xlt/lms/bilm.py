"""MLMA's multilingual bidirectional Transformer language model (Bao et al. 2019, §2.1).

One embedding matrix per language, tied to that language's output softmax (Eq. 3); a
forward and a backward Transformer decoder whose layers are shared by all languages (the
code keeps the two directions' layers separate). The backward decoder is the forward one
read right to left: position ``k`` attends to positions ``>= k``, so it predicts the word
before ``k`` from ``w_k .. w_N``.

A sentence ``w_1 .. w_N`` is fed as ``<s> w_1 .. w_N </s>``: the forward state at ``<s>``
predicts ``w_1`` and at ``w_N`` predicts ``</s>``; the backward state at ``</s>`` predicts
``w_N`` and at ``w_1`` predicts ``<s>`` (Eq. 4 with both sentence ends). The word
``w_k``'s representation at layer ``l`` is ``h_{l,k} = fwd_{l,k} ⊕ bwd_{l,k}`` at its own
position, both directions having read ``w_k`` (ELMo's convention); layer 0 is the token
embedding plus the position encoding, counted from the sentence start in the forward half
and from its end in the backward half (the backward decoder reads the reversed sentence).
Positions are sinusoidal (Vaswani et al. 2017, whose layers the paper says it uses).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from xlt.lms.sampled_softmax import full_softmax_nll, sampled_softmax_nll
from xlt.models.recurrent import reverse_padded
from xlt.models.transformer_crf import sinusoidal_positions

# Ids every language's vocabulary starts with (xlt.lms.vocab builds them so).
PAD, BOS, EOS, UNK = 0, 1, 2, 3


def _causal_mask(length: int, device: torch.device) -> Tensor:
    """Boolean ``(T, T)`` attention mask, True = not allowed: the future."""
    return torch.triu(torch.ones(length, length, dtype=torch.bool, device=device), diagonal=1)


def _reverse(x: Tensor, lengths: Tensor) -> Tensor:
    """Each sentence of ``(B, T)`` ids or ``(B, T, D)`` states reversed within its length."""
    return reverse_padded(x.unsqueeze(-1), lengths).squeeze(-1) if x.dim() == 2 else reverse_padded(x, lengths)


def join_directions(fwd: list[Tensor], bwd: list[Tensor]) -> Tensor:
    """``(n + 1, B, T, 2d)`` from the per-layer states of the two directions."""
    return torch.stack([torch.cat([f, b], dim=-1) for f, b in zip(fwd, bwd)])


class BiTransformerLM(nn.Module):
    def __init__(
        self,
        vocab_sizes: Mapping[str, int],
        d_model: int = 512,
        layers: int = 6,
        heads: int = 8,
        ffn: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by {heads} heads")
        self.languages = sorted(vocab_sizes)
        self.embeddings = nn.ModuleDict(
            {lang: nn.Embedding(size, d_model, padding_idx=PAD) for lang, size in sorted(vocab_sizes.items())}
        )
        for embedding in self.embeddings.values():
            # Tied to the output softmax: keep logits O(1) at the start (Vaswani's d^-0.5).
            nn.init.normal_(embedding.weight, std=d_model**-0.5)
            with torch.no_grad():
                embedding.weight[PAD].zero_()

        def stack() -> nn.ModuleList:
            return nn.ModuleList(
                nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=ffn, dropout=dropout,
                                           activation="relu", batch_first=True)
                for _ in range(layers)
            )

        self.forward_layers = stack()
        self.backward_layers = stack()
        self.dropout = nn.Dropout(dropout)
        self.d_model = d_model
        self.n_layers = layers

    def embed(self, lang: str, ids: Tensor) -> Tensor:
        """Layer 0: ``E_e[w] * sqrt(d) + E_p`` ``(B, T, d)`` (Vaswani's scaling of a tied
        embedding, so that positions do not drown the words)."""
        x = self.embeddings[lang](ids) * self.d_model**0.5
        return x + sinusoidal_positions(ids.shape[1], self.d_model, ids.device).to(x.dtype)

    def directional_states(self, lang: str, ids: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """Per-layer states of both directions, each a list of ``n + 1`` tensors ``(B, T, d)``
        (layer 0 first) over ``ids`` ``(B, T)`` padded with ``PAD`` on the right."""
        return self.multilingual_states({lang: ids})[lang]

    def multilingual_states(self, batches: Mapping[str, Tensor]) -> dict[str, tuple[list[Tensor], list[Tensor]]]:
        """``directional_states`` of several languages' batches at once: each language is
        embedded by its own matrix, then all sentences go through the shared layers as one
        batch (the layers are language-agnostic). One call per update rather than one per
        language: at the default plan's size it made no measurable difference on one CPU
        thread (0.61 vs 0.63 s per update, 10 languages), and on a GPU it is fewer, larger
        kernels."""
        for lang in batches:
            if lang not in self.embeddings:
                raise KeyError(f"language {lang!r} has no embedding matrix (model has {self.languages})")
        langs = list(batches)
        width = max(int(batches[lang].shape[1]) for lang in langs)
        lengths = {lang: batches[lang].ne(PAD).sum(1) for lang in langs}
        mask = _causal_mask(width, next(iter(batches.values())).device)
        out: dict[str, list[list[Tensor]]] = {lang: [] for lang in langs}
        for layers, backward in ((self.forward_layers, False), (self.backward_layers, True)):
            # The backward decoder reads each sentence reversed (padding stays on the right),
            # so both run under one causal mask: no key-padding mask is needed (a real word
            # never attends to padding) and no row of attention is fully masked.
            parts = []
            for lang in langs:
                ids = batches[lang]
                ids = _reverse(ids, lengths[lang]) if backward else ids
                parts.append(nn.functional.pad(ids, (0, width - ids.shape[1]), value=PAD))
            x = torch.cat([self.embed(lang, ids) for lang, ids in zip(langs, parts)])
            x = self.dropout(x)
            states = [x]
            for layer in layers:
                x = layer(x, src_mask=mask, is_causal=True)
                states.append(x)
            start = 0
            for lang in langs:
                size, length = batches[lang].shape
                mine = [h[start : start + size, :length] for h in states]
                out[lang].append([_reverse(h, lengths[lang]) for h in mine] if backward else mine)
                start += size
        return {lang: (fwd, bwd) for lang, (fwd, bwd) in out.items()}

    def layer_states(self, lang: str, ids: Tensor) -> Tensor:
        """``(n + 1, B, T, 2d)``: ``h_{l,k} = fwd_{l,k} ⊕ bwd_{l,k}`` for every layer."""
        return join_directions(*self.directional_states(lang, ids))

    def lm_loss(
        self,
        lang: str,
        ids: Tensor,
        num_sampled: int | None = None,
        generator: torch.Generator | None = None,
        label_smoothing: float = 0.0,
        states: tuple[list[Tensor], list[Tensor]] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Forward and backward mean NLL per predicted token (sampled softmax when
        ``num_sampled`` is set, else the full softmax). ``ids`` hold ``<s> .. </s>``.
        ``states``: the directional states of ``ids`` if already computed (alignment reuses
        them)."""
        fwd, bwd = states if states is not None else self.directional_states(lang, ids)
        weight = self.embeddings[lang].weight
        # Forward: state at t predicts ids[t + 1]; backward: state at t predicts ids[t - 1].
        # Padding is on the right, so a pair is real when its later position is.
        real = ids.ne(PAD)[:, 1:]
        pairs = (
            (self.dropout(fwd[-1])[:, :-1], ids[:, 1:], real),
            (self.dropout(bwd[-1])[:, 1:], ids[:, :-1], real),
        )
        losses = []
        for top, targets, keep in pairs:
            flat_states, flat_targets = top[keep], targets[keep]
            if num_sampled is None:
                losses.append(full_softmax_nll(flat_states, weight, flat_targets, label_smoothing))
            else:
                losses.append(sampled_softmax_nll(flat_states, weight, flat_targets, num_sampled,
                                                  generator, label_smoothing))
        return losses[0], losses[1]
