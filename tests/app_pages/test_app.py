from tests.app_pages.conftest import open_app, texts


def test_empty_workspace_offers_demo_data_and_loads_it(app_store):
    at = open_app()
    assert "Welcome to Channel Trials" in texts(at)
    [load] = [b for b in at.button if b.label == "Load demo trials"]
    load.click().run()
    assert not at.exception
    assert len(app_store.list_trials()) >= 3
    assert f"Loaded {len(app_store.list_trials())} demo trials" in texts(at)
    assert "Welcome to Channel Trials" not in texts(at)


def test_no_offer_once_there_are_trials(demo):
    at = open_app()
    assert "Welcome to Channel Trials" not in texts(at)
