"""``field__in_array=<queryset>``: ``field = ANY(ARRAY(subquery))`` instead of ``field IN (subquery)``.

PostgreSQL runs ``ARRAY(subquery)`` once as an init plan and then treats ``= ANY(array)``
as an ordinary indexable condition, so an OR of it with other indexed conditions becomes a
bitmap OR of index scans. A plain ``IN (subquery)`` inside an OR is a filter evaluated row by
row, which made "my tickets or the tickets I watch" walk a million rows.
"""

from django.db.models import Field, Lookup


@Field.register_lookup
class InArray(Lookup):
    lookup_name = "in_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
