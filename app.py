"""Channel Trials: the Streamlit entry point. Signs the user in, routes to the pages and
does app-wide setup."""

from pathlib import Path

import streamlit as st

from ui.demo_offer import offer_demo
from ui.errors import guarded
from ui.session import engine
from ui.sign_in import signed_in_store

# The tab's icon is a file of ours, sent inline with the page: a Material icon here would be
# fetched from an outside font server on every page load (the pages' icons below are drawn
# from the font Streamlit bundles, so they fetch nothing).
ICON = Path(__file__).resolve().parent / "assets" / "channel-trials.svg"
st.set_page_config(page_title="Channel Trials", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("app_pages/trials.py", title="Trials", icon=":material/table_view:", default=True),
    st.Page("app_pages/portfolio.py", title="Portfolio", icon=":material/account_balance:"),
    st.Page("app_pages/trial.py", title="Trial", icon=":material/insights:"),
    st.Page("app_pages/data.py", title="Data", icon=":material/upload_file:"),
    st.Page("app_pages/results.py", title="Results", icon=":material/monitoring:"),
    st.Page("app_pages/recommendations.py", title="Recommendations", icon=":material/recommend:"),
    st.Page("app_pages/new_trial.py", title="New trial", icon=":material/add_circle:"),
    st.Page("app_pages/plan.py", title="Plan", icon=":material/calculate:"),
    st.Page("app_pages/priors.py", title="What past trials teach", icon=":material/history:"),
]


def run_app() -> None:
    # Nothing of a workspace is drawn before sign-in: the sign-in page is drawn instead.
    trials = signed_in_store(engine())
    # The pages are declared on every run, so a deep link (/data?trial=3) survives sign-in;
    # they are hidden and not run until someone is signed in.
    navigation = st.navigation(PAGES, position="sidebar" if trials is not None else "hidden")
    if trials is None:
        st.stop()
    offer_demo(trials)
    guarded(navigation.run, where=navigation.title)


# Anything the app does not handle (a database fault while signing in, a page's bug) shows
# as a plain message, with a reference for the unexpected whose details go to the server's
# log, never as a traceback.
guarded(run_app, where="sign-in")
