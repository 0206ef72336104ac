"""Built-in plugins. They are registered exactly like third-party plugins."""

#: every built-in plugin module, in registration order (which is NOT a privacy order:
#: anonymisation order comes from project configuration)
BUILTINS = (
    "fieldkit.plugins.consent_check",
    "fieldkit.plugins.maintenance_commands",
    "fieldkit.plugins.formats",
    "fieldkit.plugins.exchange_commands",
    "fieldkit.plugins.keyword_coder",
    "fieldkit.plugins.coding_commands",
    "fieldkit.plugins.refi_qda",
    "fieldkit.plugins.coproduction",
    "fieldkit.plugins.uk_identifiers",
    "fieldkit.plugins.places",
    "fieldkit.plugins.anonymise_commands",
)
