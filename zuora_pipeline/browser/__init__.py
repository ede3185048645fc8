"""``zuora-pipeline browse``: a read-only, server-rendered web app over the warehouse (Starlette and
Jinja2, no frontend build step, a little JavaScript of our own).

Layout: ``app.py`` builds the application; ``pages/`` holds one module of routes per area
(customers, workflows, compare, search, changes) and ``lookup.py``, the customer and workflow a
URL names (or a 404); ``params.py`` turns query parameters into values
or a 400 page; ``headers.py`` adds the security headers and the server time to every response;
``templating.py`` is the Jinja2 environment (autoescaping on, every value escaped);
``compare_jobs.py`` runs tenant comparisons in the background; ``counts_cache.py`` keeps each
customer's counts until its workflows change; ``templates/`` and ``static/`` are package data.
"""
