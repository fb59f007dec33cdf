"""The desktop window: PySide6 widgets on the GUI thread, the engine on a thread of its own.

Nothing here imports the engine beyond `engine.services`, `engine.models` and
`engine.errors`: the window reaches the engine only through `bridge.CoreBridge`.
`minato serve` never imports this package, so headless runs never load Qt.
"""
