"""The HTTP API (`releasepilot serve`): a FastAPI app over the warehouse, with bearer tokens and roles.

`create_app()` builds the app; `queries` holds the read functions (plain dicts) that the API and the
dashboard share; `auth` the tokens and the `require(role)` dependency.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """Build the FastAPI app (imported lazily so `import releasepilot.api` stays cheap)."""
    from releasepilot.api.app import create_app as build

    return build(*args, **kwargs)
