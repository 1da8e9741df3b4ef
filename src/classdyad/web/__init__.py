"""The web application: ``classdyad serve``, accounts and roles, study administration.

:func:`create_app` builds the FastAPI application; :class:`WebSettings` says how it runs. Roles
are enforced in one place (:mod:`classdyad.web.access` and :func:`~classdyad.web.dependencies.
authorize`); what each role sees is decided by :mod:`classdyad.web.scope` and
:mod:`classdyad.services.privacy`.
"""

from classdyad.web.app import create_app
from classdyad.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
