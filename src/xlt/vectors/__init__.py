"""Word vectors, cross-lingual mapping (MUSE) and word-by-word translation.

One module per concept:

* :mod:`xlt.vectors.text` — readers of the catalog's monolingual text formats and the
  per-language text artifact word vectors are trained on;
* :mod:`xlt.vectors.embeddings` — the fastText ``.vec`` format, the :class:`Embeddings`
  record, MUSE's normalisations and training of subword vectors (gensim);
* :mod:`xlt.vectors.retrieval` — batched nearest-neighbour and CSLS retrieval (never a V×V
  matrix in memory);
* :mod:`xlt.vectors.mapping` — Procrustes, CSLS dictionary induction, adversarial training
  and MUSE's model selection, with a per-candidate log;
* :mod:`xlt.vectors.evaluate` — word-translation precision P@k on a bilingual dictionary;
* :mod:`xlt.vectors.translate` — word-by-word translation of a canonical sentence table.

The modules import torch and gensim lazily where they can, so that reading the catalog or a
text file does not pay for them.
"""
