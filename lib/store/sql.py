"""SQL fragments that more than one query needs: one wording per rule."""

# A booking `b` whose day the town closed afterwards (for every site, or for its site) is neither
# cooked nor billed.
OPEN_DAY = """NOT EXISTS (SELECT 1 FROM closures k WHERE b.day BETWEEN k.start_date AND k.end_date
                          AND (k.site_id IS NULL OR k.site_id = b.site_id))"""
