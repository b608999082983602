"""The town hall in Chromium: the cook reads the counts and downloads the CSV; the mayor sees the
trend chart drawn."""

import pytest

from tests.browser.conftest import login, settle

pytestmark = pytest.mark.browser


def test_the_cook_reads_the_counts_and_downloads_the_csv(server, page, tmp_path):
    login(page, server, "cuisine@demo.fr")
    page.get_by_role("heading", name="Cuisine").wait_for()
    settle(page)
    page.get_by_text("Chiffres définitifs").wait_for()
    settle(page)
    total = page.get_by_test_id("stMetric").filter(has_text="Repas au total").inner_text()
    with page.expect_download() as info:
        page.get_by_role("button", name="Fiche de production (CSV)").click()
    path = tmp_path / "repas.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("Jour;Structure;Prestation;Régime;Repas")
    assert f"TOTAL;;;{total.split()[-1]}" in text


def test_the_mayor_sees_the_trend_chart(server, page):
    login(page, server, "maire@demo.fr")
    page.get_by_text("Accueil élus").first.wait_for()
    page.goto(server + "/tendances")
    page.get_by_role("heading", name="Taux de présence").wait_for()
    settle(page)
    chart = page.locator(".stPlotlyChart").first
    # plotly draws its frame first and the traces after: wait for the third one to be drawn
    chart.locator(".scatterlayer .trace").nth(2).wait_for(state="attached")
    # the previous year, this year, and this year's running month drawn apart as partial
    assert chart.locator(".scatterlayer .trace").count() == 3
