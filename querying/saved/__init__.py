"""Saved and shared queries (issue 19): a name, SQL, a chart; shared ones are listed on the
pages of the products they read and run with the runner's permissions.

- ``charts.py``: the chart spec a saved query carries (pure);
- ``services.py``: create, change, delete, run;
- ``selectors.py``: what a user may list and open.

Who may see or change one is ``accounts.permissions``' (restrict/can on ``SavedQuery``).
"""
