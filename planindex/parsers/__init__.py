"""Per-layout parsers: each turns one kind of element (a KPI table, a 総括表, a form) into records."""
