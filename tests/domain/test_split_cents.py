"""A split bill's shares (lib.domain.invoicing.split_cents): largest remainder, in whole cents."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.domain.invoicing import split_cents

amounts = st.integers(min_value=-10_000_000, max_value=10_000_000)
percent = st.integers(min_value=0, max_value=100)


@given(amounts, percent)
def test_two_shares_sum_exactly_each_within_a_cent_of_its_exact_value(amount, first):
    percents = [first, 100 - first]
    shares = split_cents(amount, percents)
    assert sum(shares) == amount
    for share, p in zip(shares, percents, strict=True):
        assert abs(share - Fraction(amount * p, 100)) < 1
        if p == 0:
            assert share == 0


@given(amounts, st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=5).filter(sum))
def test_any_weights_share_the_same_way(amount, weights):
    """A credit note shares by what each payer was billed: any weights, the same rule."""
    shares = split_cents(amount, weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, w in zip(shares, weights, strict=True):
        assert abs(share - Fraction(amount * w, total)) < 1 and (w or not share)
        assert share * amount >= 0  # a credit's shares are credits


def test_the_cents_left_go_to_the_largest_remainders_the_first_on_a_tie():
    assert split_cents(5950, [70, 30]) == [4165, 1785]
    assert split_cents(1, [50, 50]) == [1, 0]
    assert split_cents(-1, [50, 50]) == [-1, 0]
    assert split_cents(100, [33, 33, 34]) == [33, 33, 34]
    assert split_cents(10, [1, 1, 1]) == [4, 3, 3]
    assert split_cents(1963, [33, 67]) == [648, 1315]  # 647.79 and 1315.21


@pytest.mark.parametrize("weights", [[0, 0], [], [-10, 110]])
def test_weights_must_be_non_negative_with_a_positive_sum(weights):
    with pytest.raises(ValueError):
        split_cents(100, weights)
