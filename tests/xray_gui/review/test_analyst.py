"""The analyst's name as a signature: what is refused, and what the store signs with it."""

from __future__ import annotations

import pytest

from xray_gui.review import ReviewStore
from xray_gui.review.analyst import MAX_ANALYST_CHARS, check_analyst_name, login_name


def test_a_name_is_trimmed_and_blank_names_are_refused():
    assert check_analyst_name("  Ana   Silva \n") == "Ana Silva"
    for blank in ("", "   ", "\t\n"):
        with pytest.raises(ValueError, match="Enter a name"):
            check_analyst_name(blank)
    with pytest.raises(ValueError, match="control characters"):
        check_analyst_name("Ana\x00Silva")
    with pytest.raises(ValueError, match=f"at most {MAX_ANALYST_CHARS}"):
        check_analyst_name("a" * (MAX_ANALYST_CHARS + 1))


def test_the_store_signs_with_the_name_it_is_given_then_with_the_new_one(store):
    store.set_decision("bag_1.png", "clear")
    store.set_analyst(" Bo  Chen ")
    store.set_decision("bag_2.png", "suspect")
    with pytest.raises(ValueError):
        store.set_analyst("   ")
    assert store.analyst == "Bo Chen"
    assert store.history("bag_1.png")[-1]["by"] == "ana"
    assert store.history("bag_2.png")[-1]["by"] == "Bo Chen"
    assert store._analyst("bag_2.png")["decision_by"] == "Bo Chen"


def test_without_a_name_the_login_signs(scan_dir):
    for analyst in (None, "", "  "):
        with ReviewStore(scan_dir, analyst=analyst) as store:
            assert store.analyst == login_name()
