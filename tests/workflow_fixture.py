"""The fixture plan shared by the workflow tests (local and Slurm): tiny hand-made corpora
in tests/fixtures/workflow/mirror, its catalog, and a tiny random BERT built per test run."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "workflow"


def fixture_words() -> list[str]:
    """Every word form of the fixture corpora: the tiny encoder's vocabulary covers them."""
    words = set()
    for path in (FIXTURE / "mirror").rglob("*"):
        if path.is_file():
            for line in path.read_bytes().decode("latin-1" if "deu" in path.name else "utf-8").splitlines():
                fields = line.split("\t") if "\t" in line else line.split()
                if fields and not line.startswith("#"):
                    words.add(fields[1] if "\t" in line else fields[0])
    return sorted(words)


def write_fixture_config(workdir: Path) -> Path:
    """The fixture plan with absolute paths (the tests run in a temp dir) and a tiny BERT."""
    from xlt.testing import make_tiny_encoder

    encoder = make_tiny_encoder(workdir / "tiny-bert", fixture_words())
    text = (FIXTURE / "config.yaml").read_text()
    for key, value in {
        "TEST_CATALOG": FIXTURE / "datasets.yaml",
        "TEST_TABLES_DIR": REPO / "config" / "tables",
        "TEST_MIRROR": FIXTURE / "mirror",
        "TEST_ENCODER": encoder,
    }.items():
        text = text.replace(key, str(value))
    path = workdir / "fixture.yaml"
    path.write_text(text)
    return path
