from django.urls import path

from .views import manage, reader, tickets

app_name = "knowledgebase"

urlpatterns = [
    path("", reader.kb_home, name="home"),
    path("search/", reader.kb_search, name="search"),
    path("suggest/", reader.kb_suggest, name="suggest"),
    path("deflect/", reader.kb_deflect, name="deflect"),
    path("categories/<slug:slug>/", reader.kb_category, name="category"),
    path("articles/<int:pk>/", reader.kb_article, name="article"),
    path("articles/<int:pk>/vote/", reader.kb_vote, name="vote"),
    path("articles/<int:pk>/solved/", reader.kb_solved, name="solved"),
    path("images/<uuid:key>/", reader.kb_image, name="image"),
    path("manage/", manage.manage_home, name="manage"),
    path("manage/new/", manage.article_new, name="article_new"),
    path("manage/<int:pk>/", manage.manage_article, name="manage_article"),
    path("manage/<int:pk>/edit/", manage.article_edit, name="article_edit"),
    path("manage/<int:pk>/images/", manage.article_image_add, name="article_image_add"),
    path("manage/<int:pk>/submit/", manage.article_submit, name="article_submit"),
    path("manage/<int:pk>/publish/", manage.article_publish, name="article_publish"),
    path("manage/<int:pk>/send-back/", manage.article_send_back, name="article_send_back"),
    path("manage/<int:pk>/archive/", manage.article_archive, name="article_archive"),
    path("manage/<int:pk>/restore/", manage.article_restore, name="article_restore"),
    path("manage/<int:pk>/versions/<int:number>/", manage.version_detail, name="version"),
    path("manage/<int:pk>/diff/", manage.version_diff, name="diff"),
    path("tickets/<int:ticket_pk>/link/", tickets.ticket_link, name="ticket_link"),
    path("tickets/<int:ticket_pk>/unlink/<int:article_pk>/", tickets.ticket_unlink, name="ticket_unlink"),
    path("tickets/<int:ticket_pk>/draft/", tickets.ticket_draft, name="ticket_draft"),
]
