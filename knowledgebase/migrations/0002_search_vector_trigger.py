"""The search vector of each article version, computed by the database on every write.

A trigger rather than a GeneratedField: the tags are an array, and array_to_string() is
not IMMUTABLE, which a generated column requires. The trigger fires on INSERT and on an
UPDATE of any text column (or of the vector itself), so no write path can leave a stale
vector: services, the admin, ``QuerySet.update`` and the benchmark's bulk SQL alike.
Weights: title A, summary and tags B, body and workaround C. The configuration is
``knowledgebase.models.SEARCH_CONFIG``.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION knowledgebase_version_search_vector() RETURNS trigger AS $$
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

BACKWARD = """
DROP TRIGGER IF EXISTS knowledgebase_version_search_vector ON knowledgebase_articleversion;
DROP FUNCTION IF EXISTS knowledgebase_version_search_vector();
"""


class Migration(migrations.Migration):
    dependencies = [("knowledgebase", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
