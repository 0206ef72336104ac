"""Export and import formats. Each module holds one format; ``fieldkit.plugins.formats``
registers them through the plugin hooks like any third-party format."""
