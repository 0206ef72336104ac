"""``fieldkit serve``: a local coding workbench in the browser (the optional ``serve`` extra).

``fieldkit.serve.app.create_app`` builds the app; ``fieldkit.cli.serve`` runs it. Nothing
here is imported by ``import fieldkit`` or by the command line's start-up.
"""
