"""Streamlit-side helpers shared by the pages: resources, caching, formatting, widgets.

Only this package and ``app_pages/`` and ``app.py`` import streamlit; ``trials/`` and
``inference/`` stay plain Python.
"""
