"""The search index: one row per searchable thing (map, step, pain point, lane item,
research source, quote, CX project), kept in step with the maps tables by database
triggers, and searched with the database's own full text (SQLite FTS5, PostgreSQL
tsvector + GIN). ``search_index.index`` explains the design; ``governance.search``
answers searches with the permission policy."""
