"""The rule's behaviour under daily looks, shown where a rule is registered or amended."""

from tests.app_pages.conftest import open_app, texts


def test_the_trial_page_shows_the_rules_false_scale_rate_and_chance_of_a_verdict(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app("app_pages/trial.py", trial=trial.id)
    [toggle] = [t for t in at.toggle if t.label.startswith("Show how the rule behaves")]
    toggle.set_value(True).run()
    page = texts(at).replace("\\", "")
    assert "would scale one of 3 identical arms by mistake in" in page
    assert "reach a verdict within the" in page and "rates from past trials" in page
