"""Channel Trials: the Streamlit entry point. Routes to the pages and does app-wide setup."""

from pathlib import Path

import streamlit as st

from ui.demo_offer import offer_demo
from ui.errors import guarded
from ui.session import store

# The tab's icon is a file of ours, sent inline with the page: a Material icon here would be
# fetched from an outside font server on every page load (the pages' icons below are drawn
# from the font Streamlit bundles, so they fetch nothing).
ICON = Path(__file__).resolve().parent / "assets" / "channel-trials.svg"
st.set_page_config(page_title="Channel Trials", page_icon=str(ICON), layout="wide")

navigation = st.navigation(
    [
        st.Page("app_pages/trials.py", title="Trials", icon=":material/table_view:", default=True),
        st.Page("app_pages/trial.py", title="Trial", icon=":material/insights:"),
        st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("app_pages/results.py", title="Results", icon=":material/monitoring:"),
        st.Page(
            "app_pages/recommendations.py", title="Recommendations", icon=":material/recommend:"
        ),
        st.Page("app_pages/new_trial.py", title="New trial", icon=":material/add_circle:"),
        st.Page("app_pages/plan.py", title="Plan", icon=":material/calculate:"),
    ]
)


def run_page() -> None:
    offer_demo(store())
    navigation.run()


# Anything a page does not handle shows as a plain message (with a reference for the
# unexpected, whose details go to the server's log), never as a traceback.
guarded(run_page, where=navigation.title)
