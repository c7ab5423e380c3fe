"""Small widgets the screens share: the title bar, form fields, the strength meter."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Footer, Static

from securesubmit.tui.i18n import _
from securesubmit.tui.strength import estimate
from securesubmit.tui.text import whole


class TitleBar(Static):
    """One line at the top: the app's name and where the user is."""

    def __init__(self, title: str) -> None:
        super().__init__(
            Text.assemble(("SecureSubmit", "bold"), "  ·  ", title), classes="title-bar"
        )


class FormField(Vertical):
    """A label above a control, with room below it for a validation message and a hint."""

    def __init__(
        self,
        label: str,
        control: Widget,
        *,
        hint: str = "",
        required: bool = False,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes="form-field")
        self._label = label
        self._control = control
        self._hint = hint
        self._required = required

    def compose(self) -> ComposeResult:
        label = Text(self._label)
        if self._required:
            label.append(" *", style="bold")
        yield Static(label, classes="field-label")
        yield self._control
        yield Static("", classes="field-error")
        if self._hint:
            yield Static(Text(self._hint), classes="field-hint")

    @property
    def control(self) -> Widget:
        return self._control

    def set_error(self, message: str) -> None:
        error = self.query_one(".field-error", Static)
        error.update(Text(message))
        error.display = bool(message)
        self.set_class(bool(message), "-invalid")

    @property
    def error(self) -> str:
        return str(self.query_one(".field-error", Static).content)


_BAR_STYLES = ("red", "red", "dark_orange", "green", "bold green")


class StrengthMeter(Static):
    """How hard a new passphrase looks to guess, updated as it is typed."""

    def show_for(self, passphrase: str) -> None:
        if not passphrase:
            self.update("")
            return
        strength = estimate(passphrase)
        style = _BAR_STYLES[strength.score]
        bar = "■" * (strength.score + 1) + "□" * (4 - strength.score)
        self.update(
            Text.assemble(
                (_("Strength: "), "bold"),
                (bar, style),
                " ",
                (_(strength.label), style),
                " — ",
                _(strength.advice),
            )
        )


def app_footer() -> Footer:
    """The key bindings of the screen, compact so that they fit 80 columns."""
    return Footer(compact=True, show_command_palette=False)


class FingerprintView(Static):
    """A fingerprint as people compare it aloud: 8 numbered groups of 4, bold and spaced."""

    GAP = "   "

    def __init__(self, fingerprint: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id, classes="fingerprint")
        self._fingerprint = ""
        self._marked: set[int] = set()
        self.show(fingerprint)

    def show(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        groups = fingerprint.split()
        numbers = Text(style="dim")
        letters = Text(style="bold")
        for number, group in enumerate(groups, 1):
            if number > 1:
                numbers.append(self.GAP)
                letters.append(self.GAP)
            marked = number in self._marked
            label = ("✗" + str(number) if marked else str(number)).center(len(group))
            numbers.append(label, style="bold reverse red" if marked else "")
            letters.append(group, style="bold red" if marked else "")
        self.update(Text("\n").join([numbers, letters]) if groups else Text(""))

    def mark(self, numbers: list[int]) -> None:
        """Point at the groups a check found different (the numbers above them turn red)."""
        self._marked = set(numbers)
        self.show(self._fingerprint)


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: int, largest: int, width: int) -> str:
    """A horizontal bar of ``width`` cells at most, in eighths of a cell: ████▌."""
    if largest <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def bar_chart(
    rows: list[tuple[str, int]], *, width: int, style: str = "cyan", label_width: int = 24
) -> Table:
    """Labelled bars with their counts, scaled so the longest fills the room left.

    ``width`` is the room for the whole chart; labels longer than ``label_width`` end in ….
    """
    grid = Table.grid(padding=(0, 1))
    label_room = min(label_width, max((len(label) for label, _n in rows), default=0))
    count_room = max((len(whole(n)) for _label, n in rows), default=1)
    grid.add_column(width=label_room, no_wrap=True, overflow="ellipsis")
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", width=count_room, no_wrap=True)
    room = max(4, width - label_room - count_room - 2)
    largest = max((n for _label, n in rows), default=0)
    for label, count in rows:
        grid.add_row(
            Text(label, no_wrap=True, overflow="ellipsis"),
            Text(bar(count, largest, room), style=style),
            Text(whole(count), style="bold" if count else "dim"),
        )
    return grid
