"""The What past trials teach page: the learned priors, the back-test and a trial's opt-in."""

from tests.app_pages.conftest import open_app, texts

PAGE = "app_pages/priors.py"


def test_an_empty_workspace_says_there_is_nothing_to_learn_from():
    at = open_app(PAGE)
    assert not at.exception
    assert "nothing to learn from" in texts(at)


def test_the_priors_in_plain_words_with_strength_and_backtest(demo):
    at = open_app(PAGE)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert {"conversion rate", "cost per click"} <= set(table["Stage"])
    assert table["Strength"].str.contains("worth about").any()
    assert not table.astype(str).apply(lambda c: c.str.contains("None|nan|e-0")).any().any()
    [toggle] = [t for t in at.toggle if t.label.startswith("Run the back-test")]
    toggle.set_value(True).run()
    assert not at.exception
    page = texts(at)
    assert "Days saved" in page or "No back-test" in page


def test_a_trial_opts_in_and_the_page_records_who(demo):
    at = open_app(PAGE)
    [use] = [t for t in at.toggle if t.label == "Analyse this trial with learned priors"]
    use.set_value(True)
    [save] = [b for b in at.button if b.label == "Save"]
    save.click().run()
    assert not at.exception
    assert "uses priors learned from past trials" in texts(at) and "tester" in texts(at)
