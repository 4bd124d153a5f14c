"""The JSON API under /api/: a second door onto the same services as the HTML views.

Views parse and authorise, then call the service the HTML view calls; shapes are checked by
the site's own forms (`forms.FormSerializer`), rules stay in `marketplace/services/`.
"""
