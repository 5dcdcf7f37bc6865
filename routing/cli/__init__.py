"""The `routing` command: one module a command (or a family of subcommands), one entry point
(`routing.cli.main:main`)."""
