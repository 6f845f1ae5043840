"""Build-time code: what ``mkdocs build`` runs to turn docs/ and the labs into the site.

``hooks.py`` is the file ``mkdocs.yml`` names under ``hooks:``; mkdocs loads it by path. It sits
above every other room (it documents the CLI, the settings and the sandbox ledger), and nothing
at run time imports it: ``crosstrain up`` only *runs* a build (:mod:`crosstrain.web.site`).
"""
