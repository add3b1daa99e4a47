"""The LASER architecture (Artetxe & Schwenk 2019, §3; van der Heijden et al. 2019, Fig. 1).

Encoder: BPE embeddings -> a stack of bidirectional LSTM layers -> sentence vector = max-pool
over time of the top layer's ``[forward; backward]`` states. Decoder: one LSTM layer whose
input at every step is ``[previous token; sentence vector; target-language embedding]`` and
whose initial state is a linear map of the sentence vector (tanh), predicting the
translation's BPE units. The decoder gets the sentence vector and nothing else of the source
(no attention) and is told the output language, never the input's: the encoder has to put
every language's sentences in one space.

The encoder keeps each layer's states, for the word features of van der Heijden et al.
(``layer_states``). LASER1's released checkpoint stores one ``nn.LSTM(num_layers=5,
bidirectional=True)``; :func:`encoder_from_laser1` maps it onto this layer stack, so the
paper plan reads the published weights through the same module.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from xlt.models.recurrent import SequenceEncoder


class LaserEncoder(nn.Module):
    def __init__(self, vocab_size: int, embed_dim: int = 320, hidden: int = 512, layers: int = 5,
                 dropout: float = 0.0, padding_idx: int = 0) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.layers = nn.ModuleList(
            SequenceEncoder(embed_dim if i == 0 else 2 * hidden, hidden) for i in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.hidden, self.padding_idx = hidden, padding_idx

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def output_dim(self) -> int:
        return 2 * self.hidden

    def layer_states(self, ids: Tensor, lengths: Tensor) -> list[Tensor]:
        """Each layer's ``(B, P, 2 * hidden)`` states ``[forward; backward]`` of padded piece
        ids ``(B, P)`` (zeros at padding)."""
        x = self.dropout(self.embed_tokens(ids))
        states = []
        for index, layer in enumerate(self.layers):
            x = layer(x, lengths)
            states.append(x)
            if index + 1 < len(self.layers):
                x = self.dropout(x)
        return states

    def sentence_vectors(self, ids: Tensor, lengths: Tensor, top: Tensor | None = None) -> Tensor:
        """``(B, 2 * hidden)``: max over each sentence's positions of the top layer."""
        if top is None:
            top = self.layer_states(ids, lengths)[-1]
        mask = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.to(ids.device).unsqueeze(1)
        return top.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return self.sentence_vectors(ids, lengths)


class LaserDecoder(nn.Module):
    def __init__(self, vocab_size: int, sentence_dim: int, embed_dim: int = 320, hidden: int = 2048,
                 n_langs: int = 2, lang_dim: int = 32, dropout: float = 0.0, padding_idx: int = 0) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.embed_langs = nn.Embedding(n_langs, lang_dim)
        self.init_h = nn.Linear(sentence_dim, hidden)
        self.init_c = nn.Linear(sentence_dim, hidden)
        self.lstm = nn.LSTM(embed_dim + sentence_dim + lang_dim, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, sentence: Tensor, lang_ids: Tensor, previous: Tensor) -> Tensor:
        """Next-token logits ``(B, T, V)`` given the sentence vectors ``(B, S)``, the output
        language of each row ``(B,)`` and the teacher-forced previous tokens ``(B, T)``."""
        steps = previous.shape[1]
        context = torch.cat([sentence, self.embed_langs(lang_ids)], dim=-1)
        x = torch.cat([self.dropout(self.embed_tokens(previous)), context.unsqueeze(1).expand(-1, steps, -1)], -1)
        state = (torch.tanh(self.init_h(sentence)).unsqueeze(0), torch.tanh(self.init_c(sentence)).unsqueeze(0))
        out, _ = self.lstm(x, state)
        return self.output(self.dropout(out))


class LaserTranslator(nn.Module):
    """Encoder + decoder, trained by translating into the target languages."""

    def __init__(self, encoder: LaserEncoder, decoder: LaserDecoder) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def loss(self, src: Tensor, src_lengths: Tensor, lang_ids: Tensor, target: Tensor) -> Tensor:
        """Mean token cross-entropy of ``target`` (``(B, T)``: ``<s> ... </s>``, padded) given
        the source pieces: teacher forcing, padding ignored."""
        sentence = self.encoder(src, src_lengths)
        logits = self.decoder(sentence, lang_ids, target[:, :-1])
        return nn.functional.cross_entropy(logits.flatten(0, 1), target[:, 1:].flatten(),
                                           ignore_index=self.encoder.padding_idx)


def encoder_from_laser1(state: Mapping[str, Tensor], padding_idx: int = 1) -> LaserEncoder:
    """A :class:`LaserEncoder` holding LASER1's published encoder weights (the ``model``
    entry of ``bilstm.93langs.2018-12-26.pt``: ``embed_tokens.weight`` and one bidirectional
    ``nn.LSTM``'s ``lstm.weight_ih_l{k}[_reverse]`` ...). LASER's fairseq dictionary pads
    with id 1, so ``padding_idx`` defaults to it."""
    vocab_size, embed_dim = state["embed_tokens.weight"].shape
    layers = 1 + max(int(key.split("_l")[-1].split("_")[0]) for key in state if key.startswith("lstm.weight_ih_l"))
    hidden = state["lstm.weight_hh_l0"].shape[1]
    encoder = LaserEncoder(vocab_size, embed_dim, hidden, layers, padding_idx=padding_idx)
    mapped = {"embed_tokens.weight": state["embed_tokens.weight"]}
    for k in range(layers):
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for suffix in ("", "_reverse"):
                mapped[f"layers.{k}.lstm.{kind}_l0{suffix}"] = state[f"lstm.{kind}_l{k}{suffix}"]
    encoder.load_state_dict(mapped)
    return encoder
