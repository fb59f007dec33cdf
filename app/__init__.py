"""The desktop program (PySide6) and the `minato` command line (`app.cli`, the composition root)."""
