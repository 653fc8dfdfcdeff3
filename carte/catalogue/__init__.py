"""The service catalogue: the PMO's menu of services, with SIPOC, roles, levels and versions."""
