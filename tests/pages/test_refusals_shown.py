"""`refusals_shown`, the one way a page shows a service's refusal: in French, where the call was,
inert markdown, and the page going on or stopping as asked."""

from streamlit.testing.v1 import AppTest


def page(message: str | None, stop: bool = False, as_info: bool = False) -> None:
    """A page that calls a « service » refusing with `message` (or answering when None)."""
    import streamlit as st

    from lib.domain.errors import InvalidInput
    from lib.ui.errors import refusals_shown

    def service() -> str:
        if message is None:
            return "fait"
        raise InvalidInput(message)

    st.markdown("avant")
    with refusals_shown(stop=stop, as_info=as_info) as refused:
        answer = service()
        st.success(answer)  # the follow-up, written inside: only when nothing was refused
    st.markdown(f"après, refusé : {bool(refused)}")


def run(*args) -> AppTest:
    at = AppTest.from_function(page, args=args).run()
    assert not at.exception, at.exception
    return at


def markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_a_refusal_is_shown_as_an_error_and_the_page_goes_on():
    at = run("Annulation impossible : la limite était le lundi 30 novembre 2026.")
    assert [(e.value, e.icon) for e in at.error] == [
        ("Annulation impossible : la limite était le lundi 30 novembre 2026.", "⛔")
    ]
    assert not at.success  # the block's follow-up did not run
    assert markdown(at) == ["avant", "après, refusé : True"]


def test_without_a_refusal_nothing_is_shown_and_the_block_runs_to_its_end():
    at = run(None)
    assert not at.error and not at.info
    assert [s.value for s in at.success] == ["fait"]
    assert markdown(at) == ["avant", "après, refusé : False"]


def test_stop_ends_the_page_after_the_message():
    at = run("Choisissez une période.", True)
    assert [e.value for e in at.error] == ["Choisissez une période."]
    assert markdown(at) == ["avant"]


def test_a_refusal_that_explains_an_empty_screen_is_information():
    at = run("Aucune prestation de repas n'est configurée.", True, True)
    assert [i.value for i in at.info] == ["Aucune prestation de repas n'est configurée."] and not at.error
    assert markdown(at) == ["avant"]


def test_a_typed_name_in_the_message_stays_text():
    at = run("Léa_*Martin* [ici](https://x.fr) n'est pas inscrite.")
    shown = at.error[0].value
    assert "\\_\\*Martin\\*" in shown and "\\[ici\\]" in shown  # escaped: no emphasis, no link


def test_anything_but_a_refusal_goes_through():
    def broken() -> None:
        from lib.ui.errors import refusals_shown

        with refusals_shown():
            raise RuntimeError("a bug, not a refusal")

    at = AppTest.from_function(broken).run()
    assert not at.error and at.exception
