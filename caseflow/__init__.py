"""Shared infrastructure for caseflow's processes: settings, logging, the Temporal client."""
