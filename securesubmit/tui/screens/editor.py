"""Writing and changing a report: choose a template, then fill in the form it defines.

Validation is the core's own (``models.validate``): each field is checked on its own, inside
an otherwise valid report, so that a message can be shown next to the field it concerns.
Required template fields may stay empty in a draft; the app says which ones are missing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from securesubmit.core.models import (
    CATEGORIES,
    COUNTRIES,
    LANGUAGES,
    MAX_SHORT,
    MAX_TITLE,
    TEMPLATES,
    Person,
    Report,
    missing_required,
    validate,
)
from securesubmit.errors import InputError
from securesubmit.tui.i18n import N_, _, current_language
from securesubmit.tui.screens.base import AppModal, AppScreen
from securesubmit.tui.screens.dialogs import ConfirmModal
from securesubmit.tui.text import (
    category_label,
    country_label,
    error_text,
    report_language_label,
)
from securesubmit.tui.widgets import FormField, TitleBar, app_footer

NO_TEMPLATE = "none"

# A report that passes validation; one field at a time is replaced by what the user typed.
_VALID = Report(id="", title="x", category="other", created="", updated="")


def core_error(*, fallback: str = "", **change: Any) -> str:
    """The core's validation message for this one change, or "" if it is valid.

    The core's messages are English; those that quote a value cannot be looked up in the
    catalogue. For them ``fallback``, a message of our own for this kind of field, is shown
    in other languages.
    """
    try:
        validate(replace(_VALID, **change))
    except InputError as exc:
        message, hint = error_text(exc)
        untranslated = message.lower() == str(exc).lower()
        if untranslated and fallback and current_language() != "en":
            return fallback
        return f"{message} ({hint})" if hint else message
    return ""


def bad_date() -> str:
    return _("Not a real date; use YYYY, YYYY-MM or YYYY-MM-DD.")


class TemplateChooser(AppModal[str | None]):
    """The first step of a new report: which kind of incident it is."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]
    HELP_TEXT = N_(
        "Each template asks for what matters in that kind of incident. Choose one with the "
        "arrow keys and Enter, or click it. Choose 'Something else' for a report without a "
        "template; you then pick the category yourself."
    )

    def compose(self) -> ComposeResult:
        options: list[Option | None] = []
        for t in TEMPLATES.values():
            options.append(
                Option(
                    Text.assemble((_(t.title), "bold"), "\n", (_(t.description), "dim")), id=t.id
                )
            )
            options.append(None)  # a separator line
        options.append(
            Option(
                Text.assemble(
                    (_("Something else"), "bold"),
                    "\n",
                    (_("No template: you choose the category."), "dim"),
                ),
                id=NO_TEMPLATE,
            )
        )
        with Vertical(classes="dialog chooser"):
            yield Static(
                Text(_("What kind of incident is it?"), style="bold"), classes="dialog-title"
            )
            yield OptionList(*options, id="templates")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id or NO_TEMPLATE
        self.dismiss("" if chosen == NO_TEMPLATE else chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PersonRow(Vertical):
    """One person or organisation involved, with the marks that protect them."""

    def __init__(self, person: Person) -> None:
        super().__init__(classes="person-row")
        self.person = person

    def compose(self) -> ComposeResult:
        with Horizontal(classes="person-controls"):
            yield Input(
                self.person.name,
                placeholder=_("Name"),
                max_length=MAX_SHORT,
                classes="person-name",
            )
            yield Input(
                self.person.role,
                placeholder=_("Role, e.g. detained blogger"),
                max_length=MAX_SHORT,
                classes="person-role",
            )
            yield Checkbox(_("sensitive"), self.person.sensitive, classes="person-sensitive")
            yield Checkbox(_("org."), self.person.organisation, classes="person-org")
            yield Button("✕", classes="person-remove", tooltip=_("Remove this person"))
        yield Static("", classes="field-error")

    def value(self) -> Person:
        name, role = self.query(Input).results(Input)
        return Person(
            name=name.value.strip(),
            role=role.value.strip(),
            sensitive=self.query_one(".person-sensitive", Checkbox).value,
            organisation=self.query_one(".person-org", Checkbox).value,
        )

    def is_blank(self) -> bool:
        person = self.value()
        return not person.name and not person.role

    def set_error(self, message: str) -> None:
        error = self.query_one(".field-error", Static)
        error.update(Text(message))
        error.display = bool(message)
        self.set_class(bool(message), "-invalid")

    @on(Button.Pressed, ".person-remove")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        self.remove()


class ReportEditorScreen(AppScreen[str | None]):
    """The form for one report. Dismissed with the saved report's id, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "cancel", N_("Cancel")),
    ]
    HELP_TEXT = N_(
        "Fill in what you know; a draft can be incomplete and changed later. Fields marked * "
        "are required: the title always, template fields before the report is sealed. Dates "
        "may be approximate: give only the year, or the year and month. Mark people as "
        "sensitive when their names must be protected. Ctrl+S saves; Escape leaves (and "
        "asks first if something changed). Tab moves to the next field."
    )

    def __init__(self, report: Report | None, template_id: str) -> None:
        super().__init__()
        self.report = report
        self.template = TEMPLATES.get(template_id)
        self._initial: dict[str, Any] = {}

    # --- building the form ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        report = self.report or replace(
            _VALID,
            title="",
            category=self.template.category if self.template else "",
            language=current_language() if current_language() in LANGUAGES else "en",
        )
        heading = _("Edit report {id}").format(id=report.id[:8]) if self.report else _("New report")
        yield TitleBar(heading)
        with VerticalScroll(id="editor", classes="page"):
            if self.template is not None:
                yield Static(
                    Text.assemble(
                        (_(self.template.title), "bold"),
                        "\n",
                        (_(self.template.description), "dim"),
                    ),
                    classes="template-note",
                )
            yield FormField(
                _("Title"),
                Input(report.title, id="title", max_length=MAX_TITLE),
                required=True,
                id="f-title",
            )
            if self.template is None:
                yield FormField(
                    _("Category"),
                    Select(
                        [(category_label(c), c) for c in CATEGORIES],
                        value=report.category or Select.NULL,
                        prompt=_("Choose a category"),
                        id="category",
                    ),
                    required=True,
                    id="f-category",
                )
            with Horizontal(classes="row"):
                yield FormField(
                    _("Date of the incident"),
                    Input(report.incident_date, placeholder=_("YYYY-MM-DD"), id="incident_date"),
                    hint=_("YYYY, YYYY-MM or YYYY-MM-DD"),
                    id="f-incident_date",
                )
                yield Checkbox(_("approximate"), report.date_approximate, id="date_approximate")
            with Horizontal(classes="row"):
                yield FormField(
                    _("Country"),
                    Select(
                        [(country_label(c), c) for c in COUNTRIES],
                        value=report.country or Select.NULL,
                        prompt=_("Choose a country"),
                        id="country",
                    ),
                    id="f-country",
                )
                yield FormField(
                    _("Place"),
                    Input(report.place, id="place", max_length=MAX_SHORT),
                    id="f-place",
                )
            if self.template is not None:
                yield Static(
                    Text(_("Details for this kind of incident"), style="bold"), classes="section"
                )
                for tfield in self.template.fields:
                    yield FormField(
                        _(tfield.label),
                        Input(
                            report.fields.get(tfield.key, ""),
                            placeholder=_(tfield.help) if tfield.help else "",
                            id=f"tf-{tfield.key}",
                        ),
                        required=tfield.required,
                        id=f"f-tf-{tfield.key}",
                    )
            yield Static(
                Text(_("People and organisations involved"), style="bold"), classes="section"
            )
            yield Static(
                Text(_("Mark a name sensitive when it must be protected, e.g. a source.")),
                classes="field-hint",
            )
            with Vertical(id="people"):
                for person in report.people:
                    yield PersonRow(person)
            yield Button(_("Add a person or organisation"), id="add-person")
            yield FormField(
                _("What happened"),
                TextArea(report.description, id="description", soft_wrap=True),
                id="f-description",
            )
            yield FormField(
                _("Sources"),
                TextArea("\n".join(report.sources), id="sources", soft_wrap=True),
                hint=_("One per line: a link, a document, a witness."),
                id="f-sources",
            )
            with Horizontal(classes="row"):
                yield FormField(
                    _("Tags"),
                    Input(", ".join(report.tags), id="tags"),
                    hint=_("Separated by commas."),
                    id="f-tags",
                )
                yield FormField(
                    _("Language of the report"),
                    Select(
                        [(report_language_label(code), code) for code in LANGUAGES],
                        value=report.language if report.language in LANGUAGES else "en",
                        allow_blank=False,
                        id="language",
                    ),
                    id="f-language",
                )
            yield Static("", id="save-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Save draft"), variant="primary", id="save")
                yield Button(_("Cancel"), id="cancel")
                if self.report is not None:  # files belong to a saved draft
                    yield Button(_("Attached files…"), id="files")
        yield app_footer()

    def on_mount(self) -> None:
        for form_field in self.query(FormField):
            form_field.set_error("")
        self.query_one("#save-error").display = False
        self.query_one("#title", Input).focus()
        self.call_after_refresh(self._remember_initial)

    def _remember_initial(self) -> None:
        self._initial = self.values()

    # --- reading and checking it ---------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def _select(self, widget_id: str) -> str:
        value = self.query_one(f"#{widget_id}", Select).value
        return value if isinstance(value, str) else ""

    def values(self) -> dict[str, Any]:
        """What the form says, in the shape the service takes."""
        template = self.template
        people = [row.value() for row in self.query(PersonRow) if not row.is_blank()]
        sources = self.query_one("#sources", TextArea).text.splitlines()
        fields = {}
        if template is not None:
            for tfield in template.fields:
                value = self._text(f"tf-{tfield.key}")
                if value:
                    fields[tfield.key] = value
        return {
            "title": self._text("title"),
            "template": template.id if template else "",
            "category": template.category if template else self._select("category"),
            "incident_date": self._text("incident_date"),
            "date_approximate": self.query_one("#date_approximate", Checkbox).value,
            "country": self._select("country"),
            "place": self._text("place"),
            "people": people,
            "description": self.query_one("#description", TextArea).text.rstrip(),
            "sources": [s.strip() for s in sources if s.strip()],
            "tags": [t.strip() for t in self._text("tags").split(",") if t.strip()],
            "language": self._select("language") or "en",
            "fields": fields,
        }

    def errors(self, values: dict[str, Any]) -> dict[str, str]:
        """Field container id -> message, for every field that is not valid."""
        found: dict[str, str] = {}

        def check(container: str, message: str) -> None:
            if message and container not in found:
                found[container] = message

        check("f-title", core_error(title=values["title"]))
        if self.template is None:
            # The core's hint lists category ids; the user picks from a list instead.
            wrong = core_error(category=values["category"])
            check("f-category", _("Choose a category from the list.") if wrong else "")
        check(
            "f-incident_date",
            core_error(incident_date=values["incident_date"], fallback=bad_date()),
        )
        check("f-place", core_error(place=values["place"]))
        check("f-description", core_error(description=values["description"]))
        for source in values["sources"]:
            check("f-sources", core_error(sources=[source]))
        check("f-sources", core_error(sources=values["sources"]))
        for tag in values["tags"]:
            check("f-tags", core_error(tags=[tag]))
        check("f-tags", core_error(tags=values["tags"]))
        for index, row in enumerate(self.query(PersonRow)):
            if not row.is_blank():
                check(f"person-{index}", core_error(people=[row.value()]))
        if self.template is not None:
            for tfield in self.template.fields:
                check(
                    f"f-tf-{tfield.key}",
                    core_error(
                        template=self.template.id,
                        category=self.template.category,
                        fields={tfield.key: values["fields"].get(tfield.key, "")},
                        fallback=bad_date() if tfield.key.endswith("_date") else "",
                    ),
                )
        return found

    def _error_holders(self) -> dict[str, FormField | PersonRow]:
        holders: dict[str, FormField | PersonRow] = {
            f.id: f for f in self.query(FormField) if f.id is not None
        }
        for index, row in enumerate(self.query(PersonRow)):
            holders[f"person-{index}"] = row
        return holders

    def show_errors(self, found: dict[str, str], only: set[str] | None = None) -> None:
        for container, holder in self._error_holders().items():
            if only is None or container in only:
                holder.set_error(found.get(container, ""))

    def _container_of(self, widget: Widget) -> str | None:
        for node in widget.ancestors_with_self:
            if isinstance(node, FormField | PersonRow) and node.id:
                return node.id
            if isinstance(node, PersonRow):
                rows = list(self.query(PersonRow))
                return f"person-{rows.index(node)}"
        return None

    @on(Input.Blurred)
    def _check_one(self, event: Input.Blurred) -> None:
        container = self._container_of(event.input)
        if container is not None:
            self.show_errors(self.errors(self.values()), only={container})

    @on(Input.Changed)
    def _recheck_invalid(self, event: Input.Changed) -> None:
        # Clear a message as soon as the field is fixed, without nagging while typing.
        container = self._container_of(event.input)
        holders = self._error_holders()
        if container in holders and holders[container].has_class("-invalid"):
            self.show_errors(self.errors(self.values()), only={container})

    # --- actions -----------------------------------------------------------------------

    @on(Button.Pressed, "#add-person")
    async def _add_person(self) -> None:
        row = PersonRow(Person(name=""))
        await self.query_one("#people").mount(row)
        row.query(Input).first().focus()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#files")
    def _files_pressed(self) -> None:
        from securesubmit.tui.screens.attachments import AttachmentsScreen

        if self.report is not None:
            self.app.push_screen(AttachmentsScreen(self.report.id))

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        values = self.values()
        found = self.errors(values)
        self.show_errors(found)
        save_error = self.query_one("#save-error", Static)
        save_error.display = False
        if found:
            holder = self._error_holders()[next(iter(found))]
            focusable = holder.query("Input, Select, TextArea")
            if focusable:
                focusable.first().focus()
            self.notify(_("Please correct the marked fields."), severity="error", markup=False)
            return
        try:
            if self.report is None:
                report = self.session.create_report(**values)
            else:
                report = self.session.update_report(self.report.id, **values)
        except InputError as exc:
            message, hint = error_text(exc)
            save_error.update(Text(f"{message}\n{hint}" if hint else message))
            save_error.display = True
            return
        missing = missing_required(report)
        note = _("Draft {id} saved.").format(id=report.id[:8])
        if missing:
            note += " " + _("Still missing: {fields}.").format(
                fields=", ".join(_(label) for label in missing)
            )
        self.notify(note, markup=False, severity="warning" if missing else "information")
        self.dismiss(report.id)

    def action_cancel(self) -> None:
        if self.values() == self._initial:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmModal(_("Discard your changes?"), confirm=_("Discard")), answered
        )
