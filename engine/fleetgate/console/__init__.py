"""The auditor console: a read-only web view of the decision log (``fleetgate audit serve``).

Pages are rendered on the server and work without JavaScript; charts are SVG drawn here. The
web framework (Starlette, Jinja2, uvicorn: the ``console`` extra) is imported only by
:mod:`fleetgate.console.app` and :mod:`fleetgate.console.serve`, so the other modules (the
queries behind the pages, also used by ``audit query --admitted-at``) stay light.
"""
