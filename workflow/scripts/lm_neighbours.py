"""Bao et al.'s Table 4 with our models: the text cells of the nearest-neighbour rows."""
from typing import TYPE_CHECKING

from xlt import logs
from xlt.atomic import atomic_write_json
from xlt.lms.artifact import load_lm
from xlt.lms.corpus import read_sentences
from xlt.lms.neighbours import (contextual_neighbour, mark, mean_layer_states, muse_neighbours, parse_context,
                                read_target_space, sample_sentences)
from xlt.provenance import input_hashes, package_versions
from xlt.tables import load_paper_tables

if TYPE_CHECKING:
    from snakemake.iocontainers import Snakemake

    snakemake: Snakemake

with logs.to_file(snakemake.log[0]) as log:
    spec, inputs = snakemake.params.neighbours, snakemake.input
    source, target = spec["source"], spec["target"]
    table = next(t for t in load_paper_tables(inputs.spec).tables if t.id == spec["table"])
    model, vocabs, lm = load_lm(inputs.lm)
    sentences = sample_sentences(read_sentences(inputs.target_corpus), int(spec["sentences"]), int(spec["seed"]))
    states = mean_layer_states(model, vocabs[target], target, sentences)
    target_space = read_target_space(inputs.target_vectors, spec.get("max_rows"))
    cells, details = {}, {}
    for row in table.rows:
        query = row.query
        if "word" in query:
            words = muse_neighbours(query["word"], inputs.source_vectors, target_space, int(spec["k"]))
            cells[row.label] = {"english": query["word"], "spanish": ", ".join(words) or "(no vector)"}
        elif "context" in query:
            tokens, position = parse_context(query["context"], snakemake.params.tokenizer)
            found = contextual_neighbour(model, vocabs, source, target, tokens, position, sentences, states)
            cells[row.label] = {"english": mark(tokens, position), "spanish": found["sentence"]}
            details[row.label] = found
        else:
            continue
        log.info("%s: %s", row.label, cells[row.label]["spanish"])
    atomic_write_json(snakemake.output[0], {
        table.id: cells, "details": details, "lm": {"file": inputs.lm, "variant": lm.get("variant"),
                                                   "sha256": lm["weights"]["sha256"]},
        "params": dict(spec), "versions": package_versions(),
        "inputs": input_hashes([inputs.spec, inputs.lm, inputs.target_corpus, inputs.source_vectors,
                                inputs.target_vectors]),
    })
