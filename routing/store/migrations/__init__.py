"""The store's schema as Alembic migrations (#12): every change to the tables is a revision in
`versions/`, applied in place when a store is opened (`routing.store.schema.upgrade`)."""
