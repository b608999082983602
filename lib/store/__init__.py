"""The only package that speaks SQL: schema, migrations, connection, named queries."""
