"""The ORM tables of the admin API (SQLAlchemy 2 declarative), one module per area.

Importing this package registers every table on `Base.metadata`, which the Alembic migrations
(`api/migrations`) manage together with the alert service's tables (`alerts.store.metadata`).
Times are epoch seconds (floats) like the alert tables; calendar dates are `Date`.
"""

from api.tables import audit, auth, evidence, profiles, records
from api.tables.base import Base

__all__ = ["Base", "audit", "auth", "evidence", "profiles", "records"]
