"""A LASER-style sentence encoder (Artetxe & Schwenk 2019), the stand-in for the LASER1
weights of van der Heijden et al. (2019) where those cannot be had (the default plan):

- ``preprocess``: LASER's text normalisation (Moses punctuation normalisation, lower case)
  and the joint BPE vocabulary, learned with Hugging Face ``tokenizers``;
- ``bitext``: sentence pairs into English and Spanish from the multi-way sets of the
  mirror's text (FLORES-200, WMT newstest), a held-out block for retrieval;
- ``model``: the BiLSTM encoder (per-layer states, max-pooled sentence vector) and the LSTM
  decoder that translates from that vector alone;
- ``training``: the translation objective and the retrieval check;
- ``artifact``: the trained encoder as files (weights, BPE, manifest), read frozen by taggers.
"""
