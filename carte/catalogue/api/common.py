"""What the catalogue's API modules share, and what other apps' APIs take from it: the
service paths and the service as the parent of the rows under it."""

from functools import partial

from carte.catalogue import selectors
from carte.core.api import Parent

SERVICES = "/orgs/{org}/services"
SERVICE = SERVICES + "/{int:id}"
# Rows under a service (its parts here; KPIs, risks, steps of its life in other apps);
# the staff's records (KPIs, risks...) are refused to a customer who sees the service.
SERVICE_PARENT = Parent(path="services", fetch=selectors.service_for, arg="service")
STAFF_SERVICE_PARENT = Parent(
    path="services",
    fetch=partial(selectors.service_for, audience=selectors.Audience.STAFF),
    arg="service",
)
