"""Built-in plugins. They are registered exactly like third-party plugins."""

#: every built-in plugin module, in registration order (which is NOT a privacy order:
#: anonymisation order comes from project configuration)
BUILTINS = (
    "fieldkit.plugins.consent_check",
)
