"""Writes of the assignments app, as `services.<noun>_<verb>(*, ...)` functions.

Split by workflow so each stays readable; callers use `from assignments import services`.
- drafting: reviewers build change sets (moves, new persons) and submit them.
- review: maintainers approve, reject, apply and revert change sets.
- export: approved changes written into an Anthology data folder through `acl-anthology`.
"""

from assignments.services.drafting import *  # noqa: F403
from assignments.services.export import *  # noqa: F403
from assignments.services.review import *  # noqa: F403
