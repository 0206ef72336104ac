"""The plugin system: hook specifications, the plugin manager and what plugins register."""
