"""The settings dialog: the settings file's values, edited on pages and saved through the engine.

What it shows is what the next start will load (the file, with `MINATO_*` variables
on top); a key a variable sets is greyed out and says which variable. Save sends only
what was changed to `services.settings.save`, which checks it as a start would and
writes the file; a refusal is shown here, naming the key, with everything typed
kept. The running engine does not reload: the answer says what takes effect at the
next start. Secrets never reach the dialog (the TMDb key shows as set / not set).
Start at login is not a setting but the XDG autostart entry (`autostart`).

Open it with `SettingsDialog(bridge, window, theme=window.theme).open()`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.desktop import autostart
from app.desktop.bridge import CoreBridge
from app.desktop.theme import Theme, ThemeChoice
from app.desktop.widgets import Note
from engine.errors import MinatoError
from engine.services import SaveReport, SettingsForm, SiteEntry

TMDB_KEY: Final = "enrich.tmdb_api_key"
THEME_KEY: Final = "desktop.theme"
THEMES: Final[dict[str, ThemeChoice]] = {"system": "system", "light": "light", "dark": "dark"}
SITE_COLUMNS: Final = (
    "Site",
    "Enabled",
    "Mirrors (one per line)",
    "Proxy",
    "Interval (s)",
    "Depth",
)
KINDS: Final = {"html": "web site", "api": "JSON API", "dht": "BitTorrent DHT",
                "bitmagnet": "Bitmagnet bridge"}  # fmt: skip
"""How each kind of source reads under its name in the Sites page."""
SITE_HELP: Final = (None, "sites.enabled", "sites.mirrors", "sites.proxy", "sites.min_interval_s",
                    "sites.depth")  # fmt: skip
NETWORK_WARNING: Final = (
    "This address is not loopback: the API (Torznab, ingest) will be reachable from the "
    "network, by anyone who can reach this machine. Keep 127.0.0.1 unless you mean it."
)
DATA_DIR_NOTE: Final = (
    "Data is not moved: the next start opens (or creates) the database and the index in "
    "the folder named here."
)
FEEDS_NOTE: Final = (
    "Feeds are managed live in the Crawlers tab (Feeds): adding or removing one there "
    "takes effect at once, no restart needed. Feeds written as [[feeds]] in the settings "
    "file are added there at each start."
)


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Field:
    """One plain setting and the widget that edits it."""

    key: str
    widget: QWidget
    get: Callable[[], Any]
    put: Callable[[Any], None]


class GeneralPage(QWidget):
    """Server, storage, search backend, TMDb key, and how the window starts and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.host = QLineEdit()
        self.host_warning = Note(NETWORK_WARNING, error=True)
        self.port = QSpinBox(minimum=0, maximum=65535)
        self.port.setMaximumWidth(self.port.fontMetrics().horizontalAdvance("any free port") + 48)
        self.port.setSpecialValueText("any free port")  # 0: the system picks one
        self.data_dir = QLineEdit(placeholderText="the platform's data directory")
        self.choose_dir = QPushButton("Choose…")
        self.backend = QComboBox()
        self.tmdb_key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.clear_tmdb = QCheckBox("Remove the stored key")
        self.start_minimized = QCheckBox("Start minimized to the tray")
        self.start_at_login = QCheckBox("Start Minato when I log in")
        self.close_to_tray = QCheckBox("Closing the window hides it to the tray")
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        self.fields = (
            _Field("server.host", self.host, lambda: self.host.text().strip(),
                   lambda v: self.host.setText(str(v))),
            _Field("server.port", self.port, self.port.value, lambda v: self.port.setValue(int(v))),
            _Field("storage.data_dir", self.data_dir, lambda: self.data_dir.text().strip(),
                   lambda v: self.data_dir.setText(str(v))),
            _Field("search.backend", self.backend, self.backend.currentText, self._set_backend),
            _Field("desktop.start_minimized", self.start_minimized,
                   self.start_minimized.isChecked, self.start_minimized.setChecked),
            _Field("desktop.close_to_tray", self.close_to_tray, self.close_to_tray.isChecked,
                   self.close_to_tray.setChecked),
            _Field(THEME_KEY, self.theme, self.theme.currentText, self.theme.setCurrentText),
        )  # fmt: skip
        self._layout()
        self.host.textChanged.connect(self._host_changed)
        self.choose_dir.clicked.connect(self._choose_dir)
        self.clear_tmdb.toggled.connect(lambda on: self.tmdb_key.setEnabled(not on))
        self._host_changed(self.host.text())

    def fill(self, form: SettingsForm) -> None:
        """Show the values the next start will load; keys set by variables are read-only."""
        self.backend.clear()
        self.backend.addItems(form.backends)
        for field in self.fields:
            field.put(_value(form, field.key))
            _describe(field.widget, field.key, form)
        tmdb_set = _value(form, TMDB_KEY) == "set"
        self.tmdb_key.clear()
        self.tmdb_key.setPlaceholderText(
            "a key is stored: leave blank to keep it" if tmdb_set else "none: paste a TMDb key"
        )
        self.clear_tmdb.setChecked(False)
        self.clear_tmdb.setEnabled(tmdb_set and TMDB_KEY not in form.env)
        _describe(self.tmdb_key, TMDB_KEY, form)
        self.start_at_login.setChecked(autostart.is_enabled())
        self.start_at_login.setEnabled(autostart.supported())

    def changes(self, form: SettingsForm, into: dict[str, Any]) -> None:
        """Add to `into` every value that differs from what the form showed."""
        for field in self.fields:
            value = field.get()
            if field.key not in form.env and value != _value(form, field.key):
                _put(into, field.key, value)
        if TMDB_KEY in form.env:
            return
        key = self.tmdb_key.text().strip()
        if key and not self.clear_tmdb.isChecked():
            _put(into, TMDB_KEY, key)
        elif self.clear_tmdb.isChecked():
            _put(into, TMDB_KEY, None)  # back to the default: no key

    def _set_backend(self, value: Any) -> None:
        if self.backend.findText(str(value)) < 0:  # e.g. "meilisearch": shown, not offered
            self.backend.addItem(str(value))
        self.backend.setCurrentText(str(value))

    def _host_changed(self, text: str) -> None:
        self.host_warning.setVisible(bool(text.strip()) and not is_loopback(text.strip()))

    def _choose_dir(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Data directory", self.data_dir.text())
        if chosen:
            self.data_dir.setText(chosen)

    def _layout(self) -> None:
        folder = QHBoxLayout()
        folder.addWidget(self.data_dir, 1)
        folder.addWidget(self.choose_dir)
        form = QFormLayout(self)
        form.addRow("Server address:", self.host)
        form.addRow("", self.host_warning)
        form.addRow("Server port:", self.port)
        form.addRow("Data directory:", folder)
        form.addRow("", QLabel(DATA_DIR_NOTE, wordWrap=True))
        form.addRow("Search backend:", self.backend)
        form.addRow("TMDb API key:", self.tmdb_key)
        form.addRow("", self.clear_tmdb)
        form.addRow("Theme:", self.theme)
        for box in (self.start_minimized, self.start_at_login, self.close_to_tray):
            form.addRow("", box)


class _SiteRow:
    """The editors of one site's row."""

    def __init__(self, entry: SiteEntry, policies: tuple[str, ...]) -> None:
        self.entry = entry
        self.enabled = QCheckBox()
        self.enabled.setChecked(entry.enabled)
        self.mirrors = QPlainTextEdit("\n".join(entry.mirrors))
        self.mirrors.setEnabled(entry.has_mirrors)
        self.mirrors.setPlaceholderText("the built-in mirrors" if entry.has_mirrors else "—")
        self.proxy = QComboBox(editable=True)
        self.proxy.addItems(policies)
        self.proxy.setCurrentText(entry.proxy if isinstance(entry.proxy, str) else
                                  ", ".join(entry.proxy))  # fmt: skip
        self.proxy.setToolTip("none, pool, sticky, or proxy names separated by commas")
        self.interval = QDoubleSpinBox(minimum=0.0, maximum=3600.0, decimals=2)
        self.interval.setValue(entry.min_interval_s)
        self.depth = QSpinBox(minimum=1, maximum=100)
        self.depth.setValue(entry.depth)
        self._policies = policies
        if entry.kind == "dht":  # no requests to pace, pages to read or proxy to go through
            for editor in (self.proxy, self.interval, self.depth):
                editor.setEnabled(False)
                editor.setToolTip("The DHT crawler has its own settings ([dht]).")

    def widgets(self) -> tuple[QWidget, ...]:
        """The editors, in column order after the site's name."""
        return (self.enabled, self.mirrors, self.proxy, self.interval, self.depth)

    def changes(self) -> dict[str, Any]:
        """The keys of `[sites.<id>]` this row changes."""
        entry, found = self.entry, dict[str, Any]()
        if self.enabled.isChecked() != entry.enabled:
            found["enabled"] = self.enabled.isChecked()
        lines = [line.strip() for line in self.mirrors.toPlainText().splitlines() if line.strip()]
        if entry.has_mirrors and tuple(lines) != entry.mirrors:
            found["mirrors"] = lines or None  # emptied: back to the built-in mirrors
        policy = self._policy()
        if policy != (entry.proxy if isinstance(entry.proxy, str) else list(entry.proxy)):
            found["proxy"] = policy
        if round(self.interval.value(), 2) != round(entry.min_interval_s, 2):
            found["min_interval_s"] = self.interval.value()
        if self.depth.value() != entry.depth:
            found["depth"] = self.depth.value()
        return found

    def _policy(self) -> str | list[str]:
        text = self.proxy.currentText().strip()
        if not text or text in self._policies:
            return text or "none"
        return [name.strip() for name in text.split(",") if name.strip()]


class SitesPage(QWidget):
    """Every known site: enabled, mirrors, proxy policy, politeness interval, depth."""

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(SITE_COLUMNS))
        self.table.setHorizontalHeaderLabels(SITE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.rows: dict[str, _SiteRow] = {}
        column = QVBoxLayout(self)
        column.addWidget(QLabel("A value changed here overrides the site's built-in one.",
                                wordWrap=True))  # fmt: skip
        column.addWidget(self.table, 1)

    def fill(self, form: SettingsForm) -> None:
        """One row per site, as the next start configures it."""
        self.rows = {entry.id: _SiteRow(entry, form.proxy_policies) for entry in form.sites}
        self.table.setRowCount(len(self.rows))
        for index, (site_id, row) in enumerate(self.rows.items()):
            kind = KINDS.get(row.entry.kind, row.entry.kind)
            name = QTableWidgetItem(f"{site_id}\n{kind}")
            name.setToolTip(f"{site_id}: {kind}")
            name.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(index, 0, name)
            for offset, widget in enumerate(row.widgets(), start=1):
                self.table.setCellWidget(index, offset, _cell(widget, row.mirrors))
                widget.setEnabled(widget.isEnabled() and f"sites.{site_id}" not in form.env)
            self.table.setRowHeight(index, 64)
        self.table.resizeColumnToContents(0)
        for index, key in enumerate(SITE_HELP):
            header = self.table.horizontalHeaderItem(index)
            if key is not None and header is not None:
                header.setToolTip(form.help.get(key, ""))

    def changes(self, into: dict[str, Any]) -> None:
        """Add `sites.<id>` tables for the rows that changed."""
        for site_id, row in self.rows.items():
            if found := row.changes():
                into.setdefault("sites", {})[site_id] = found


class ProxiesPage(QWidget):
    """The outbound proxies sites may use (by name in their proxy policy)."""

    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(("Name", "URL"))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add = QPushButton("Add")
        self.remove = QPushButton("Remove selected")
        self.add.clicked.connect(self.add_row)
        self.remove.clicked.connect(self._remove)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addWidget(QLabel(
            "http://, https://, socks5:// or socks5h://host:port. A password shows as ***: "
            "leave it so to keep the stored one. Sites use proxies through their proxy policy "
            "(Sites page).", wordWrap=True))  # fmt: skip
        column.addWidget(self.table, 1)
        column.addLayout(buttons)

    def fill(self, form: SettingsForm) -> None:
        """The proxies as the file lists them (passwords as ***)."""
        self.table.setRowCount(0)
        for proxy in form.values.get("proxies", []):
            self.add_row(str(proxy.get("name", "")), str(proxy.get("url", "")))
        self.table.setEnabled(not any(key.startswith("proxies") for key in form.env))

    def add_row(self, name: str = "", url: str = "") -> None:
        """A new row (empty: ready to type into)."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(url))
        if not name:
            self.table.setCurrentCell(row, 0)

    def entries(self) -> list[dict[str, str]]:
        """The rows, blank ones left out."""
        found = []
        for row in range(self.table.rowCount()):
            name, url = (self._text(row, column) for column in (0, 1))
            if name or url:
                found.append({"name": name, "url": url})
        return found

    def changes(self, form: SettingsForm, into: dict[str, Any]) -> None:
        """Add the whole list when it differs from the file's."""
        if self.table.isEnabled() and self.entries() != form.values.get("proxies", []):
            into["proxies"] = self.entries()

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _remove(self) -> None:
        for row in sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)


class SettingsDialog(QDialog):
    """The settings, on pages; Save checks them through the engine and writes the file."""

    saved = Signal(object)
    """A `SaveReport`, after a save that changed the file."""

    def __init__(
        self, bridge: CoreBridge, parent: QWidget | None = None, *, theme: Theme | None = None
    ) -> None:
        """Load the settings; `theme`, when given, takes a saved theme at once."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(900, 600)
        self._bridge = bridge
        self._theme = theme
        self._form: SettingsForm | None = None
        self.general = GeneralPage()
        self.sites = SitesPage()
        self.proxies = ProxiesPage()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.general, "General")
        self.tabs.addTab(self.sites, "Sites")
        self.tabs.addTab(self.proxies, "Proxies")
        self.tabs.addTab(QLabel(FEEDS_NOTE, wordWrap=True, alignment=Qt.AlignmentFlag.AlignTop),
                         "Feeds")  # fmt: skip
        self.path = QLabel("", textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = Note()
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(self.save)
        column = QVBoxLayout(self)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.path)
        column.addWidget(self.message)
        column.addWidget(self.buttons)
        self.reload()

    def reload(self) -> None:
        """Read the settings (as the next start will load them) into the pages."""
        self.save_button.setEnabled(False)
        self._bridge.call(lambda services: services.settings.form(), self._loaded, self._refused)

    def changes(self) -> dict[str, Any]:
        """What Save would send: only the values that differ from those shown at load."""
        found: dict[str, Any] = {}
        if self._form is not None:
            self.general.changes(self._form, found)
            self.sites.changes(found)
            self.proxies.changes(self._form, found)
        return found

    def save(self) -> None:
        """Send the changes; the answer (or the refusal) shows below the pages."""
        if self._form is None:
            return
        changes = self.changes()
        login = self.general.start_at_login.isChecked()
        if not changes:
            note, ok = self._login(login)
            self._show(note or "Nothing changed.", error=not ok)
            return
        self.save_button.setEnabled(False)
        self._show("Saving…")
        self._bridge.call(
            lambda services: services.settings.save(changes),
            lambda report: self._saved(report, login),
            self._refused,
        )

    def _loaded(self, form: SettingsForm) -> None:
        self._form = form
        self.general.fill(form)
        self.sites.fill(form)
        self.proxies.fill(form)
        self.path.setText(f"Settings file: {form.path}")
        self.save_button.setEnabled(True)

    def _saved(self, report: SaveReport, login: bool) -> None:
        applied: list[str] = []
        choice = THEMES.get(self.general.theme.currentText())
        if self._theme is not None and THEME_KEY in report.changed and choice is not None:
            self._theme.choose(choice)
            applied.append(THEME_KEY)
        note, ok = self._login(login)
        self._show("\n".join(filter(None, (report.summary(applied), note))), error=not ok)
        if report.changed:
            self.saved.emit(report)
        self.reload()  # what the file says now (the TMDb field empties again)

    def _refused(self, error: MinatoError) -> None:
        self._show(error.user_message, error=True)
        self.save_button.setEnabled(self._form is not None)  # what was typed stays as typed

    def _login(self, wanted: bool) -> tuple[str, bool]:
        """Make the autostart entry match the checkbox: (what was done or why not, success)."""
        if not autostart.supported() or wanted == autostart.is_enabled():
            return "", True
        try:
            if wanted:
                autostart.enable()
            else:
                autostart.disable()
        except autostart.AutostartError as exc:
            return f"Start at login: {exc}", False
        done = "Minato will start at login." if wanted else "Minato will not start at login."
        return done, True

    def _show(self, text: str, *, error: bool = False) -> None:
        self.message.set_error(text, error=error)


def _cell(widget: QWidget, stretched: QWidget) -> QWidget:
    """`widget` in a table cell: `stretched` fills it, the others sit in its middle."""
    if widget is stretched:
        return widget
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 0, 4, 0)
    centre = Qt.AlignmentFlag.AlignVCenter
    if isinstance(widget, QCheckBox):
        centre |= Qt.AlignmentFlag.AlignHCenter
    layout.addWidget(widget, 0, centre)
    return box


def _value(form: SettingsForm, key: str) -> Any:
    section, name = key.split(".", 1)
    return form.values.get(section, {}).get(name)


def _put(into: dict[str, Any], key: str, value: Any) -> None:
    section, name = key.split(".", 1)
    into.setdefault(section, {})[name] = value


def _describe(widget: QWidget, key: str, form: SettingsForm) -> None:
    """The key's description as tooltip; read-only, saying why, when a variable sets it."""
    text = form.help.get(key, "")
    variable = form.env.get(key)
    if variable is not None:
        text = f"Set by the environment variable {variable}: change it there.\n{text}"
    widget.setToolTip(text.strip())
    widget.setEnabled(variable is None)
