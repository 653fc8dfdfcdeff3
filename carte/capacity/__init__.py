"""Capacity (M-2, M-9, M-14, M-22): people's assessed competences, their availability
and allocations, and demand against supply month by month. The competence framework it
reads is the organisations app's (`organisations.Competence`), which the catalogue's
needs name too."""
