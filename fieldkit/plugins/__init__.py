"""Built-in plugins. They are registered exactly like third-party plugins."""

#: every built-in plugin module, in registration order (which is NOT a privacy order:
#: anonymisation order comes from project configuration). fieldkit's own commands are not
#: plugins: they are defined in ``fieldkit.cli`` and added to the command line explicitly.
BUILTINS = (
    "fieldkit.plugins.consent_check",
    "fieldkit.plugins.formats",
    "fieldkit.plugins.keyword_coder",
    "fieldkit.plugins.refi_qda",
    "fieldkit.plugins.coproduction",
    "fieldkit.plugins.uk_identifiers",
    "fieldkit.plugins.places",
    "fieldkit.plugins.pseudonymise",
)
