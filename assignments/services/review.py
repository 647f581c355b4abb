"""review services (see assignments.services)."""

__all__: list[str] = []
