"""Neural taggers and their shared parts.

- ``crf``: ``CRF``, ``viterbi_decode`` (the project's one Viterbi), ``constrained_decode``;
- ``recurrent``: ``SequenceEncoder`` and ``reverse_padded`` (word-level BiLSTM; Bari et al.'s
  tied-direction option);
- ``char_encoder``: ``CharBiLSTM`` (Lample et al. 2016 character features; tied option);
- ``bilstm_crf``: ``BiLSTMCRF`` (with Bari et al.'s Cross-Shared option);
- ``transformer_crf``: ``TransformerCRF`` (van der Heijden et al. 2019's tagger);
- ``subword``: word/subword alignment and sliding windows for Hugging Face tokenizers;
- ``encoder_tagger``: ``EncoderTagger`` (pretrained encoder + linear head);
- ``layer_mix``: ``SelfWeightedSum``, ``FullyWeightedSum`` (Bao et al.'s s.w.s. / f.w.s. over a
  frozen LM's layers).

Submodules are imported on demand: the BiLSTM side needs only torch, while
``encoder_tagger`` pulls in transformers, which is slow to import.
"""
