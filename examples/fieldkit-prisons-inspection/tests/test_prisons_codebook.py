"""The ``prisons`` codebook: valid, complete, loadable into a project, and round-trippable."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.hooks import manager as plugin_manager
from fieldkit.coding.codebook_file import dump_codebook, load_codebook

import fieldkit_prisons_inspection as plugin


def test_codebook_parses_and_every_code_is_documented():
    data = plugin.load_codebook()
    assert data.name == "prisons"
    top = [spec.name for spec in data.children()]
    assert top == ["safety", "dignity-and-respect", "time-out-of-cell", "release-and-resettlement", "prisoner-voice"]
    for spec in data.codes:
        assert spec.definition and spec.include and spec.exclude and spec.example, spec.path
        assert spec.keywords, spec.path


def test_codebook_survives_a_dump_and_load_round_trip():
    data = plugin.load_codebook()
    for fmt in ("yaml", "json"):
        assert load_codebook(dump_codebook(data, fmt), fmt=fmt) == data


@settings(max_examples=50)
@given(st.sampled_from(plugin.load_codebook().codes))
def test_every_path_names_one_code_below_its_parent(spec):
    data = plugin.load_codebook()
    assert data.code(spec.path) == spec
    assert spec.parent_path is None or data.code(spec.parent_path).depth == spec.depth - 1


def test_registered_and_loaded_into_a_project(fieldkit_plugin, fieldkit_project, fieldkit_cli):
    fieldkit_plugin(plugin, "prisons")
    assert plugin_manager.codebooks()["prisons"].load() is plugin.load_codebook()
    result = fieldkit_cli("codebook", "load", "prisons", project=fieldkit_project)
    assert result.exit_code == 0, result.output
    paths = {c.name for c in fieldkit_project.list("code")}
    assert {"safety", "use-of-force", "peer-inspectors"} <= paths
    assert len(fieldkit_project.list("code")) == len(plugin.load_codebook().codes)
