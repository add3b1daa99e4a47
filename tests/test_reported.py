"""xlt.reported.parse: every way the five papers print a table cell."""
import pytest

from xlt.reported import parse


@pytest.mark.parametrize("text, value, std", [
    ("75.93 ± 0.81", 75.93, 0.81),
    ("74.39 ± .94", 74.39, 0.94),
    ("86.40±.17", 86.40, 0.17),
    ("76.34 (± 0.96)", 76.34, 0.96),
    ("25.692 ± 1.75", 25.692, 1.75),
])
def test_value_with_std(text, value, std):
    cell = parse(text)
    assert cell.value == pytest.approx(value)
    assert cell.std == pytest.approx(std)
    assert cell.delta is None and not cell.failed and not cell.missing
    assert cell.raw == text


@pytest.mark.parametrize("text, value, delta", [
    ("78.93 (-0.38)", 78.93, -0.38),
    ("75.23 (0.41)", 75.23, 0.41),
    ("0.330+0.096", 0.330, 0.096),
    ("0.884-.003", 0.884, -0.003),
    ("0.502-0.", 0.502, 0.0),
    ("0.617-0", 0.617, 0.0),
])
def test_value_with_change(text, value, delta):
    cell = parse(text)
    assert cell.value == pytest.approx(value)
    assert cell.delta == pytest.approx(delta)
    assert cell.std is None


def test_zero_shot_slash_monolingual():
    cell = parse("0.247/0.441")
    assert cell.value == pytest.approx(0.247)
    assert cell.second == pytest.approx(0.441)


def test_slash_with_missing_first_part():
    cell = parse("-/0.935")
    assert cell.value is None and cell.missing
    assert cell.second == pytest.approx(0.935)


def test_failed_model():
    cell = parse("x")
    assert cell.failed and cell.value is None and not cell.missing


@pytest.mark.parametrize("text", ["-", "—", "", "  "])
def test_not_reported(text):
    cell = parse(text)
    assert cell.missing and cell.value is None and not cell.failed


@pytest.mark.parametrize("text, value", [
    ("59.30", 59.30),
    ("342906 (~13↓)", 342906),
    ("395581 (=1x)", 395581),
    ("14,987", 14987),
    ("<b>79.31</b>", 79.31),
    ("— <sup>3</sup>", None),
])
def test_plain_numbers_and_markup(text, value):
    cell = parse(text)
    assert cell.value == (pytest.approx(value) if value is not None else None)


def test_bold_value_with_std_in_parentheses():
    cell = parse("<b>79.31</b> (± 0.39)")
    assert cell.value == pytest.approx(79.31)
    assert cell.std == pytest.approx(0.39)


@pytest.mark.parametrize("text", ["about 60", "60 ± ", "n.a.x"])
def test_unknown_text_is_an_error(text):
    with pytest.raises(ValueError, match="cannot read"):
        parse(text)
