"""Pages of change requests, improvements and feedback (M-19).

A service's pages live under catalogue/services/<pk>/operations/ (its change requests,
each request's page with the moves the viewer may make, the improvement log, the
feedback received); customers give feedback at catalogue/services/<pk>/feedback/; the
organisation's change-request queue is at operations/changes/, and each person's own
requests and feedback ("My requests") at operations/my-requests/. One module per part:
`requests`, `improvements`, `feedback` and `mine`; `base` holds what they share.

Views parse input, call one selector or service and render. A refusal is shown on the
form (422 for input, 409 for a state that moved on); rights and tenancy raise 403/404.
The one-button actions answer only POST, after their lookups, so another organisation's
id is a 404 whatever the method.
"""

from __future__ import annotations

from django.urls import URLPattern

from carte.operations.views.changes import feedback, improvements, mine, requests

urlpatterns: list[URLPattern] = [
    *requests.urlpatterns,
    *improvements.urlpatterns,
    *feedback.urlpatterns,
    *mine.urlpatterns,
]
