"""lib/charts.py draws what it is given: a city's hundred sites stack as the biggest few plus
« Autres », with every meal still counted."""

from datetime import date

import pandas as pd

from lib import charts


def frame(groups: int) -> pd.DataFrame:
    return pd.DataFrame([dict(day=date(2026, 11, d), site=f"Site {g:03d}", diet="Standard", booked=g + d, present=0,
                              absent=0, checked=0) for g in range(groups) for d in (2, 3)])


def test_a_few_sites_each_get_their_own_bar():
    figure = charts.daily_meals(frame(3), stack_by="site")
    assert [t.name for t in figure.data] == ["Site 000", "Site 001", "Site 002"]


def test_a_hundred_sites_stack_as_the_biggest_and_the_others_with_every_meal_counted():
    data = frame(100)
    figure = charts.daily_meals(data, stack_by="site")
    names = [t.name for t in figure.data]
    assert len(names) == charts.MAX_STACKS
    assert names[:3] == ["Site 099", "Site 098", "Site 097"]  # the biggest first
    assert names[-1] == "Autres (93)"
    assert sum(sum(t.y) for t in figure.data) == data["booked"].sum()
