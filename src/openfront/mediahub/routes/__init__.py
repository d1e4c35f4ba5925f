"""HTTP routes, one module per area, each exposing ``routes`` (an aiohttp RouteTableDef).

Handlers stay thin: read the request, call a service from :mod:`openfront.mediahub.context`,
shape the response. A later step adds ``videos`` (uploads, listing) and ``tus`` here and to
``openfront.mediahub.app.ROUTE_MODULES``.
"""
