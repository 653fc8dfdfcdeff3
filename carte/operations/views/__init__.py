"""Pages of running a service, one module per part; each module has its `urlpatterns`,
gathered by `carte.operations.urls`."""
