"""Corpus readers and the canonical sentence table.

``xlt.io.registry.READERS`` maps each ``format`` of ``config/datasets.yaml`` to a reader
(one module per format); :mod:`xlt.io.sentence` holds the :class:`Sentence` record and
the Parquet table; :mod:`xlt.io.convert` turns raw reader output into canonical IOB2 /
universal-POS sentences for the data stage.
"""
