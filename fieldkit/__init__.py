"""fieldkit: capture, keep, code, anonymise and export ethnographic fieldwork data.

    import fieldkit
    project = fieldkit.open("study/")
"""

from fieldkit.hooks.specs import hookimpl
from fieldkit.project import Project, init, open

__version__ = "0.1.0"
__all__ = ["Project", "hookimpl", "init", "open", "__version__"]
