"""Tenancy: organisations, PMOs, people, customer groups, memberships, roles, API tokens."""
