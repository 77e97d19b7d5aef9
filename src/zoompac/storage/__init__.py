"""Persistence: SQLAlchemy tables, Alembic migrations, the store and fixture loading."""
