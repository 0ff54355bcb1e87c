"""The plain text of each version's body; document frequencies of the search lexemes.

* ``body_text`` (the rendered body as plain text) is filled for the versions there are, and
  the search vector is built from it instead of the Markdown source (so ``##``, list
  numbers and link targets are neither searched nor quoted). The vector trigger of 0002 is
  redefined and every vector recomputed.
* ``knowledgebase_searchterm`` counts the live versions holding each lexeme. Statement-level
  triggers with transition tables keep it exact after every INSERT, UPDATE and DELETE of
  versions, however many rows one statement writes (the benchmark's seeding writes 20,000
  at a time): one aggregated upsert per statement, not one per row. A transaction-level
  advisory lock serialises the counting, so two publications touching the same common
  lexemes never deadlock on their rows (publishing is rare; the lock is held to commit).
"""

from django.db import migrations, models

from knowledgebase.markdown import plain_text

VECTOR = """
CREATE OR REPLACE FUNCTION knowledgebase_version_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(NEW.summary, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(NEW.tags, ' '), '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(NEW.body_text, '') || ' ' || coalesce(NEW.workaround, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER knowledgebase_version_search_vector ON knowledgebase_articleversion;
CREATE TRIGGER knowledgebase_version_search_vector
BEFORE INSERT OR UPDATE OF title, summary, tags, body, body_text, workaround, search_vector
ON knowledgebase_articleversion
FOR EACH ROW EXECUTE FUNCTION knowledgebase_version_search_vector();
"""

VECTOR_BACK = """
DROP TRIGGER knowledgebase_version_search_vector ON knowledgebase_articleversion;
CREATE OR REPLACE FUNCTION knowledgebase_version_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(NEW.summary, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(array_to_string(NEW.tags, ' '), '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(NEW.body, '') || ' ' || coalesce(NEW.workaround, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER knowledgebase_version_search_vector
BEFORE INSERT OR UPDATE OF title, summary, tags, body, workaround, search_vector
ON knowledgebase_articleversion
FOR EACH ROW EXECUTE FUNCTION knowledgebase_version_search_vector();
UPDATE knowledgebase_articleversion SET search_vector = NULL;
"""

# old_rows / new_rows exist only in the triggers that declare them; PL/pgSQL plans each
# statement when it first runs, so the branch of another operation never touches them.
TERMS = """
CREATE FUNCTION knowledgebase_count_search_terms() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('knowledgebase_searchterm'));
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE knowledgebase_searchterm AS t SET documents = t.documents - gone.n
        FROM (
            SELECT w.lexeme, count(*) AS n FROM old_rows AS o, unnest(o.search_vector) AS w
            WHERE o.is_live GROUP BY w.lexeme
            UNION ALL
            SELECT '', count(*) FROM old_rows WHERE is_live
        ) AS gone
        WHERE t.lexeme = gone.lexeme;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO knowledgebase_searchterm (lexeme, documents)
        SELECT w.lexeme, count(*) FROM new_rows AS n, unnest(n.search_vector) AS w
        WHERE n.is_live GROUP BY w.lexeme
        UNION ALL
        SELECT '', count(*) FROM new_rows WHERE is_live
        ON CONFLICT (lexeme) DO UPDATE SET documents = knowledgebase_searchterm.documents + EXCLUDED.documents;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER knowledgebase_search_terms_insert
AFTER INSERT ON knowledgebase_articleversion REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION knowledgebase_count_search_terms();
CREATE TRIGGER knowledgebase_search_terms_update
AFTER UPDATE ON knowledgebase_articleversion REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION knowledgebase_count_search_terms();
CREATE TRIGGER knowledgebase_search_terms_delete
AFTER DELETE ON knowledgebase_articleversion REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION knowledgebase_count_search_terms();

-- Every vector again, from body_text; the update trigger counts them into the empty table.
UPDATE knowledgebase_articleversion SET search_vector = NULL;
"""

TERMS_BACK = """
DROP TRIGGER knowledgebase_search_terms_insert ON knowledgebase_articleversion;
DROP TRIGGER knowledgebase_search_terms_update ON knowledgebase_articleversion;
DROP TRIGGER knowledgebase_search_terms_delete ON knowledgebase_articleversion;
DROP FUNCTION knowledgebase_count_search_terms();
"""


def fill_body_text(apps, schema_editor):
    versions = apps.get_model("knowledgebase", "ArticleVersion")
    for version in versions.objects.only("pk", "body").iterator():
        versions.objects.filter(pk=version.pk).update(body_text=plain_text(version.body))


class Migration(migrations.Migration):
    dependencies = [
        ("knowledgebase", "0002_search_vector_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="articleversion",
            name="body_text",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("lexeme", models.TextField(primary_key=True, serialize=False)),
                ("documents", models.IntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["lexeme"], name="kb_term_prefix_idx", opclasses=["text_pattern_ops"])],
            },
        ),
        migrations.RunSQL(VECTOR, VECTOR_BACK),
        migrations.RunPython(fill_body_text, migrations.RunPython.noop),
        migrations.RunSQL(TERMS, TERMS_BACK),
    ]
