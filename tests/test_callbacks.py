"""Button data (bot/callbacks.py): what a button carries is user input, parsed back in one place."""

from __future__ import annotations

import pytest

from bot import callbacks
from bot.errors import StaleActionError
from bot.messages import Button, rows


def test_a_choice_naming_a_number_comes_back_only_as_that_number() -> None:
    assert callbacks.chosen(callbacks.choice("d", 12), "d") == 12
    assert callbacks.chosen(callbacks.choice("rep", 0), "rep") == 0
    for forged in ("d", "d-1", "d1x", "d 1", "dept12", "x12", "d１２", "d" + "9" * 13):
        assert callbacks.chosen(forged, "d") is None, forged
    with pytest.raises(ValueError):
        callbacks.choice("d", -1)


def test_an_index_past_the_list_that_was_shown_names_nothing() -> None:
    """A forged `o9` for a question of three options, or a list that has since grown shorter."""
    assert callbacks.chosen("o2", "o", below=3) == 2
    assert callbacks.chosen("o3", "o", below=3) is None


def test_button_data_is_decoded_only_when_well_formed() -> None:
    assert callbacks.decode(callbacks.encode("d", "ab12", "next")) == ("d", ["ab12", "next"])
    for bad in ("", "d::x", "d:a b", "d:" + "x" * 70, "d:甲"):
        with pytest.raises(StaleActionError):
            callbacks.decode(bad)


def test_rows_lay_buttons_out_in_order() -> None:
    buttons = [Button(str(n), f"x{n}") for n in range(5)]
    assert [[b.label for b in row] for row in rows(buttons, 2)] == [["0", "1"], ["2", "3"], ["4"]]
    assert rows([], 3) == ()
