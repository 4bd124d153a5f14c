"""Msgids that exist only for `makemessages`: nothing at run time imports this package.

django_messages: Django's own messages our users see, so our Urdu catalogue translates them.
reference_names: the names of categories, provinces and cities (migration 0002's data).
"""
