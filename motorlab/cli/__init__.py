"""Command-line interface: ``motorlab <command>``; one module ``cmd_<name>.py`` per command."""
