from django.apps import AppConfig


class KnowledgebaseConfig(AppConfig):
    """Tier 0 self-service: articles, search, suggestions and deflection."""

    name = "knowledgebase"
    verbose_name = "Knowledge base"
