"""The HTTP layer: Starlette routes, middleware and the mapping of domain errors to responses."""
