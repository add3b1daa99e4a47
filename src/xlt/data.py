"""Data-stage glue: one catalog corpus spec + its fetched files -> one canonical table.

Readers and tag conversion live in ``xlt.io``; what a (task, lang, split) is made of lives
in the catalog; what the plan wants (label set, entity-type mapping, caps) in the config.
This module joins the three and records where the table came from.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from xlt.catalog import CorpusSpec
from xlt.errors import InputError
from xlt.fetch import sha256_file
from xlt.io.convert import build_split
from xlt.io.sentence import write_table
from xlt.postags import build_pos_map


def prepare_split(
    spec: CorpusSpec,
    *,
    files: Sequence[str | Path],
    task: Mapping[str, Any],
    output: str | Path,
) -> int:
    """Write the canonical Parquet table of ``spec`` (the whole corpus: plans cap sentences
    when runs read tables); returns its number of sentences.

    ``files`` are the local paths of ``spec``'s entries in order, followed by the tag-map
    resource when the spec has one (as the workflow's ``corpus_files`` lists them).
    """
    n_entries = len(spec.entries)
    expected = n_entries + (spec.tag_map is not None)
    if len(files) != expected:
        raise ValueError(f"{spec.task}/{spec.lang}/{spec.split}: {len(files)} files for {expected} inputs")
    entries = [
        {
            "path": str(path),
            "format": entry.format,
            "encoding": entry.encoding,
            "member": entry.member,
            "options": dict(entry.options),
            "tag_scheme": entry.tag_scheme,
        }
        for entry, path in zip(spec.entries, files)
    ]
    pos_map = None
    if spec.tag_map is not None:
        pos_map = build_pos_map(
            files[n_entries], spec.tag_map.member,
            extra=dict(spec.tag_map.extra), prefix_completion=spec.tag_map.prefix_completion,
        )
    kind = task["kind"]
    sentences = build_split(
        entries,
        kind=kind,
        labels=task.get("labels") if kind == "ner" else None,
        type_map=task.get("type_map") if kind == "ner" else None,
        pos_map=pos_map,
        use_pos_column=spec.use_pos_column,
    )
    if not sentences:
        raise InputError(files[0], None, f"no sentences for {spec.task}/{spec.lang}/{spec.split}")
    metadata = {
        "task": spec.task,
        "lang": spec.lang,
        "split": spec.split,
        "kind": kind,
        "tag_scheme": "IOB2" if kind == "ner" else "universal12",
        "labels": list(task.get("labels", [])) if kind == "ner" else None,
        "stand_in_for": spec.stand_in_for,
        "note": spec.note,
        "sources": [
            {
                "resource": entry.resource.id,
                "member": entry.member,
                "format": entry.format,
                "source_tag_scheme": entry.tag_scheme,
                "options": dict(entry.options),
                # fetch verified downloads against the catalog: hash only manual copies.
                "sha256": sha256_file(path) if entry.resource.manual else entry.resource.sha256,
            }
            for entry, path in zip(spec.entries, files)
        ],
    }
    write_table(sentences, output, metadata)
    return len(sentences)
