"""Reads of capacity, one module per part: `records` (people's assessments, availability,
allocations, a person's load, a service's staffing) and `grid` (demand against supply)."""
