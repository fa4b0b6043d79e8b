"""Channel Trials: the Streamlit entry point. Routes to the pages and does app-wide setup."""

import streamlit as st

from ui.demo_offer import offer_demo
from ui.session import store

st.set_page_config(page_title="Channel Trials", page_icon=":material/experiment:", layout="wide")

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
offer_demo(store())
navigation.run()
