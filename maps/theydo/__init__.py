"""TheyDo's published import formats (github.com/theydo/theydo-s3-integrations): metrics,
insights, opportunities, solutions, survey and feedback responses. Our own JSON Schemas
of them (``schemas``), validation with every problem by JSON path (``validation``),
imports into a map and exports back (``export``). The mapping, field by field, is
``docs/theydo.md``."""
