from django.contrib import admin

from .models import Article, ArticleEvent, ArticleVersion, Category, Deflection, Vote


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("number", "title", "author", "reviewer", "published_at", "is_live")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-mostly: the workflow runs through the KB pages and the API (``knowledgebase.services``)."""

    list_display = ("title", "status", "visibility", "is_known_error", "category", "updated_at")
    list_filter = ("status", "visibility", "is_known_error", "category")
    search_fields = ("title", "summary")
    readonly_fields = (
        "status",
        "created_by",
        "updated_by",
        "source_ticket",
        "view_count",
        "helpful_count",
        "not_helpful_count",
    )
    inlines = [ArticleVersionInline]


@admin.register(ArticleEvent)
class ArticleEventAdmin(admin.ModelAdmin):
    list_display = ("article", "kind", "actor", "at")
    list_filter = ("kind",)


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("article", "user", "helpful", "updated_at")
    list_filter = ("helpful",)


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ("article", "user", "query", "created_at")
    date_hierarchy = "created_at"
