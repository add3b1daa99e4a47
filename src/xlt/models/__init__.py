"""Neural taggers and their shared parts.

- ``crf``: ``CRF``, ``viterbi_decode`` (the project's one Viterbi), ``constrained_decode``;
- ``char_encoder``: ``CharBiLSTM`` (Lample et al. 2016 character features);
- ``bilstm_crf``: ``BiLSTMCRF`` (with Bari et al.'s shared-direction LSTM option);
- ``subword``: word/subword alignment and sliding windows for Hugging Face tokenizers;
- ``encoder_tagger``: ``EncoderTagger`` (pretrained encoder + linear head).

Submodules are imported on demand: the BiLSTM side needs only torch, while
``encoder_tagger`` pulls in transformers, which is slow to import.
"""
