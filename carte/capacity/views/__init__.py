"""Capacity pages, one module per part: `grid` (demand against supply, a cell's detail,
"can we take this on?"), `records` (assessments, availability, allocations, a person's
load, a service's staffing)."""
