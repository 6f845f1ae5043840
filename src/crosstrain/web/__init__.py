"""The browser face: the built site and its JSON API, from one origin on 127.0.0.1.

- :func:`crosstrain.web.site.build_site` builds the mkdocs site when its sources changed;
- :func:`crosstrain.web.app.create_app` is the Starlette application (API, then static site);
- :func:`crosstrain.web.server.serve` is ``crosstrain up``.

The mkdocs build hooks live in :mod:`crosstrain.site_build` (build time, not run time).
"""
