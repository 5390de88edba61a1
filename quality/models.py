"""Quality history: check runs, results, incidents."""
