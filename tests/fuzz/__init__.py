"""The fuzz tier (issue 9): bad input never gets a 5xx or a dropped connection.

``python -m tests.fuzz --requests 10000`` runs the long form and prints the figures; the
pytest module ``test_fuzz.py`` runs a CI-sized campaign.
"""
