"""fieldkit-prisons-inspection: an example fieldkit plugin for a prisons inspectorate.

It adds, through fieldkit's hooks and nothing else:

* a codebook, ``prisons`` (``fieldkit codebook load prisons``);
* two anonymisation detectors, ``prisons.location`` (wing, landing, cell and houseblock
  references) and ``prisons.number`` (prison numbers such as ``A1234BC``);
* an exporter, ``prisons-evidence`` (``fieldkit export prisons-evidence table.csv``);
* a command, ``fieldkit prisons wings``.

This module only holds the hook implementations; each imports the module that does the
work when it is called, so loading the plugin costs almost nothing.
"""

from __future__ import annotations

import functools

from fieldkit import hookimpl

__version__ = "0.1.0"

CODEBOOK_FILE = "prisons.yaml"


@functools.lru_cache(maxsize=1)
def load_codebook():
    """The ``prisons`` codebook, parsed from the YAML file shipped in this package."""
    from importlib import resources

    from fieldkit.coding.codebook_file import load_codebook as parse

    text = (resources.files(__name__) / CODEBOOK_FILE).read_text(encoding="utf-8")
    return parse(text, source=f"{__name__}:{CODEBOOK_FILE}", fmt="yaml")


def _detect_locations(text, context=None):
    from .locations import detect_locations

    return detect_locations(text, context)


def _detect_numbers(text, context=None):
    from .locations import detect_prison_numbers

    return detect_prison_numbers(text, context)


def _export(project, dest, options):
    from .evidence import export

    return export(project, dest, options)


@hookimpl
def register_codebooks(register):
    from fieldkit.hooks.registry import Codebook

    register(Codebook("prisons", load_codebook, "Prisons inspection (illustrative framework)"))


@hookimpl
def register_detectors(register):
    from fieldkit.hooks.registry import Detector

    register(Detector("prisons.location", _detect_locations,
                      "Wing, landing, cell and houseblock references (quasi-identifier)"))
    register(Detector("prisons.number", _detect_numbers, "Prison numbers such as A1234BC"))


@hookimpl
def register_exporters(register):
    from fieldkit.hooks.registry import Exporter

    register(Exporter("prisons-evidence", _export,
                      "Inspection evidence table: coded segments by code with record, encounter and date",
                      ".csv"))


@hookimpl
def register_commands(cli):
    from .commands import add_commands

    add_commands(cli)
