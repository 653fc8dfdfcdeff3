"""API endpoints of the service lifecycle (`/api/v1/orgs/{org}/services/{id}/...`): the
lifecycle state (stage, the checklist of each next move, the current records), the
timeline, the transitions, and the steps recorded between moves.

Every write goes through `carte.lifecycle.services`. Ids in a payload are resolved within
the caller's organisation first (`ref()`), so another organisation's id is a 422 naming
the field. Payload fields carry the domain's names (`owner`, `template`, `customers`,
...), so the domain's field errors name what the client sent; the CLI reads the same
payload (`carte lifecycle move ... --payload-json`).
"""

from ninja import Router

from carte.lifecycle.api import state, steps, templates
from carte.lifecycle.api.schemas import ServiceBrief, TransitionIn
from carte.lifecycle.api.state import transition_payload

router = Router()
router.add_router("/", state.router)
router.add_router("/", steps.router)
router.add_router("/", templates.router)

__all__ = ["ServiceBrief", "TransitionIn", "router", "transition_payload"]
