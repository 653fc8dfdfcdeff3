"""Reads of running a service, one module per part, matching `services`."""
