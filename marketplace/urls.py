"""URL patterns, grouped by area. Names follow `<noun>_<action>`."""

from django.urls import path

from marketplace.views import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("help/", pages.help_page, name="help"),
]
