from fieldkit.cli import cli

cli()
