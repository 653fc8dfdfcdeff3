"""Carte: run a PMO as a set of services."""
