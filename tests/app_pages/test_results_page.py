"""The Results page: preview then the full model, funnel with the weakest stage, intervals
against break-even, raw vs modelled, diagnostics; a trial without data is pointed to Data."""

from tests.app_pages.conftest import open_app, texts

PAGE = "app_pages/results.py"


def test_results_show_the_full_model_with_every_section(demo):
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    page = texts(at)
    for heading in (
        "Funnel per arm",
        "ROAS, conversion rate and CPA",
        "Posterior distributions",
        "Raw and modelled",
        "Over time",
    ):
        assert heading in page
    # Results over time: P(best) and ROAS per arm, day by day, with when the leader settled.
    assert "has led on every day since" in page
    assert "Full model: partial pooling" in page
    assert "Preview — not the verdict" not in page  # replaced once the fit is done
    assert "Scale the winner" in page or "Keep testing" in page or "equal" in page
    [funnel] = [d.value for d in at.dataframe if "Stage" in d.value.columns]
    assert len(funnel) == 3 * 3 and (funnel["Weakest stage"] == "◀ weakest").sum() == 3
    [raw] = [d.value for d in at.dataframe if "Raw (from totals)" in d.value.columns]
    assert list(raw["Conversions"]) == [
        demo.arm_totals(trial.id)[a.id].conversions for a in trial.arms
    ]
    assert [e.label for e in at.expander if e.label.startswith("Diagnostics")]
    # In a marketer's words: rates as percentages, money with its currency, every arm's
    # chance of returning above break-even beside the raw and modelled figures.
    money_rows = funnel["Stage"] == "Conversions → revenue"
    assert all(str(v).endswith("%") for v in funnel.loc[~money_rows, "Posterior mean"])
    assert all(
        str(v).endswith(trial.spec.currency) for v in funnel.loc[money_rows, "Posterior mean"]
    )
    assert all(str(v).endswith("%") for v in raw["Chance ROAS > 2.5"])


def test_the_preview_is_labelled_and_no_verdict_comes_from_it(demo, monkeypatch):
    """While the full model is not there (here: held back), the page shows the exact
    preview under its label, with figures but no verdict, recommendation or report."""
    import ui.fits
    from trials.domain.verdicts import LABELS, VERDICT_LABELS

    held = ui.fits.FitOutcome(None, "held back for this test")
    monkeypatch.setattr(ui.fits, "mcmc_fit", lambda *args, **kwargs: held)
    trial = demo.get_trial("Search ads headline test")
    at = open_app(PAGE, trial=trial.id)
    page = texts(at)
    assert "Preview — not the verdict" in page and "held back for this test" in page
    assert [w.value for w in at.warning if w.value.startswith("**Preview — not the verdict.**")]
    for code, label in VERDICT_LABELS.items():
        assert code == "preview" or label not in page
    for code, label in LABELS.items():
        assert code == "preview" or f"— {label}" not in page
    assert not at.success and "Full model:" not in page
    assert not at.get("download_button")  # no report from the preview
    assert [m.label for m in at.metric if m.label == "Leading arm (preview)"]
    [funnel] = [d.value for d in at.dataframe if "Stage" in d.value.columns]
    assert len(funnel) == 3 * 3  # the figures are there


def test_a_trial_without_data_points_to_the_data_page(demo):
    trial = demo.get_trial("Xiaohongshu notes (planned)")
    at = open_app(PAGE, trial=trial.id)
    assert "No results yet" in texts(at)


def test_report_downloads_in_every_format(demo):
    trial = demo.get_trial("Email subject lines, November")
    at = open_app(PAGE, trial=trial.id)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["HTML report", "Excel (XLSX)", "CSV", "Markdown"]
