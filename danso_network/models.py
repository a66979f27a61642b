"""Imports every model module so the metadata (Alembic, tests) sees all tables."""

from .allowances import models as allowance_models  # noqa: F401
from .api import models as api_models  # noqa: F401
from .audit import models as audit_models  # noqa: F401
from .auth import models as auth_models  # noqa: F401
from .collaborators import models as collaborator_models  # noqa: F401
from .jobs import models as job_models  # noqa: F401
from .recruitment import models as recruitment_models  # noqa: F401
from .supervision import models as supervision_models  # noqa: F401
from .targets import models as target_models  # noqa: F401
from .training import models as training_models  # noqa: F401
from .units import models as unit_models  # noqa: F401
