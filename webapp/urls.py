from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from webapp.courses.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("webapp.accounts.urls")),
    path("courses/", include("webapp.courses.urls")),
    path("practice/", include("webapp.practice.urls")),
    path("composer/", include("webapp.composer.urls")),
    path("tutor/", include("webapp.tutor.urls")),
    path("review/", include("webapp.review.urls")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
