"""One language's LM corpus: its text re-tokenised, lowercased, long sentences dropped, the
last sentences held out (xlt.lms.corpus)."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.atomic import atomic_write_json
from xlt.lms.corpus import build_corpus, split_dev, write_sentences
from xlt.provenance import input_hashes, package_versions

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    p = snakemake.params.corpus
    sentences, counts = build_corpus(snakemake.input.text, p["tokenizer"], int(p["max_length"]), p["max_sentences"])
    train, dev = split_dev(sentences, int(p["dev_sentences"]))
    write_sentences(snakemake.output.train, train)
    write_sentences(snakemake.output.dev, dev)
    atomic_write_json(snakemake.output.summary, {
        **counts, "train_sentences": len(train), "dev_sentences": len(dev), "params": dict(p),
        "versions": package_versions(("nltk",)), "inputs": input_hashes([snakemake.input.text]),
    })
    log.info("%s: %d train / %d dev sentences (%d tokens; %d lines too long)", snakemake.wildcards.lang,
             len(train), len(dev), counts["tokens"], counts["dropped_too_long"])
