"""Shared plumbing: base models, the audit trail, the error type, the permission check."""
