"""Forms of the dashboard and admin: upload, filters, inboxes, re-import."""

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from . import conf, filekinds, services
from .importers import importer_names
from .languages import language_choices
from .models import Inbox, InboxFile


def _grouped(number: int) -> str:
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def importer_choices() -> list[tuple[str, str]]:
    """Return the dataset choices of a form: blank = routed by the header."""
    return [("", _("By header")), *((name, name) for name in importer_names())]


class UploadLimitHandler(FileUploadHandler):
    """Stop receiving files as soon as one passes ``INGEST_MAX_UPLOAD_SIZE``.

    Without it Django writes the whole body to a temporary file before the
    form can look at a size. The refused file's name is left on the
    request as ``upload_refused``; the rest of the body is read and dropped
    so the browser still gets the answer.
    """

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = conf.max_upload_size()
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_refused = self.file_name
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_refusal(request) -> str:
    """Return why :class:`UploadLimitHandler` stopped *request*, or ""."""
    name = getattr(request, "upload_refused", None)
    if name is None:
        return ""
    return _(
        "%(name)s: over the upload limit of %(limit)s bytes; nothing was uploaded."
    ) % {"name": name, "limit": _grouped(conf.max_upload_size())}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes one or several files under one name."""

    def __init__(self, *args, **kwargs) -> None:
        accept = filekinds.accept_attribute()
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            if not data and self.required:
                raise forms.ValidationError(self.error_messages["required"])
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    """One or several CSV files; the cheap checks, before anything is written.

    The service checks the content (text, size while streaming) again: it
    never trusts that its caller did.
    """

    file = MultipleFileField(
        label=_("CSV files"),
        help_text=_(
            "One or several .csv files (also compressed: .csv.gz, .csv.bz2, "
            ".csv.xz), or drop them here."
        ),
    )
    importer = forms.ChoiceField(
        label=_("Dataset"),
        required=False,
        choices=importer_choices,
        help_text=_("Blank: the inbox's dataset, else the one the header matches."),
    )
    inbox = forms.ModelChoiceField(
        label=_("Inbox"),
        required=False,
        queryset=Inbox.objects.all(),
        empty_label=_("Default inbox"),
        help_text=_("Its recipients, encoding and column aliases apply."),
    )

    def clean_file(self) -> list[UploadedFile]:
        limit = conf.max_upload_size()
        errors = []
        for upload in self.cleaned_data["file"]:
            if not filekinds.is_readable(upload.name):
                errors.append(
                    _("%(name)s: not a file this service reads (it reads %(kinds)s).")
                    % {"name": upload.name, "kinds": filekinds.kinds_text()}
                )
            elif upload.size > limit:
                errors.append(
                    _(
                        "%(name)s: %(size)s bytes is over the upload limit of "
                        "%(limit)s bytes."
                    )
                    % {
                        "name": upload.name,
                        "size": _grouped(upload.size),
                        "limit": _grouped(limit),
                    }
                )
        if errors:
            raise forms.ValidationError(errors)
        return self.cleaned_data["file"]


class StateFilterForm(forms.Form):
    """The dashboard's filter: one ledger state, or all."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *InboxFile.State.choices],
    )


class StateInboxFilterForm(StateFilterForm):
    """The dashboard's filter: one ledger state and one inbox, or all."""

    inbox = forms.ModelChoiceField(
        label=_("Inbox"),
        required=False,
        queryset=Inbox.objects.all(),
        empty_label=_("All inboxes"),
    )


class ReimportForm(forms.Form):
    """Re-import one file, as the dataset staff choose (default: as before)."""

    importer = forms.ChoiceField(
        label=_("Dataset"), required=False, choices=importer_choices
    )


class PreviewChangeForm(forms.Form):
    """Preview a file again as another dataset, or for another inbox."""

    importer = forms.ChoiceField(
        label=_("Dataset"), required=False, choices=importer_choices
    )
    inbox = forms.ModelChoiceField(
        label=_("Inbox"),
        required=False,
        queryset=Inbox.objects.all(),
        empty_label=_("Default inbox"),
    )


class SecretTextarea(forms.Textarea):
    """A textarea that never shows its value back (an SSH private key)."""

    def format_value(self, value):
        return None


class InboxForm(forms.ModelForm):
    """An inbox and its schedule: every N seconds, or a crontab line.

    The remote store's secrets are never rendered back into the page;
    left blank on an edit, the stored one is kept.
    """

    #: Fields never shown back; blank on an edit keeps the stored value.
    SECRET_FIELDS = ("secret", "ssh_key")

    importer = forms.ChoiceField(
        label=_("Dataset"), required=False, choices=importer_choices
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=language_choices,
        help_text=_("Of this inbox's emails and failure notes."),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Receives a signed JSON POST when each file is finished."),
    )
    scan_every = forms.IntegerField(
        label=_("Scan every (seconds)"),
        required=False,
        min_value=1,
        help_text=_("Leave blank when a crontab line is given."),
    )
    scan_crontab = forms.CharField(
        label=_("Or crontab"),
        required=False,
        help_text=_(
            "minute hour day-of-month month day-of-week, e.g. '*/5 * * * *' "
            "(in the site's time zone)."
        ),
    )

    class Meta:
        model = Inbox
        fields = [
            "name",
            "folder",
            "importer",
            "enabled",
            "preview_first",
            "encoding",
            "delimiter",
            "quotechar",
            "header_line",
            "sheet",
            "column_aliases",
            "min_file_age",
            "max_reject_rate",
            "date_order",
            "time_zone",
            "decimal_separator",
            "thousands_separator",
            "true_words",
            "false_words",
            "null_tokens",
            "notify_emails",
            "language",
            "webhook_url",
            "webhook_secret",
            "endpoint_url",
            "region",
            "access_key",
            "secret",
            "ssh_key",
            "known_hosts",
            "archive_folder",
            "failed_folder",
        ]
        widgets = {
            "secret": forms.PasswordInput(render_value=False),
            "ssh_key": SecretTextarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            current = services.inbox_schedule(inbox=self.instance)
            self.fields["scan_every"].initial = current.every
            self.fields["scan_crontab"].initial = current.crontab
        else:
            self.fields["scan_every"].initial = conf.scan_interval()
        # A key file ends with a newline; keep the text exactly as pasted.
        self.fields["ssh_key"].strip = False
        for name in self.SECRET_FIELDS:
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].widget.attrs["placeholder"] = _(
                    "(set; leave blank to keep it)"
                )

    def _secret_clean(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        if not value.strip() and self.instance.pk:
            return getattr(self.instance, name)
        return value

    def clean_secret(self) -> str:
        return self._secret_clean("secret")

    def clean_ssh_key(self) -> str:
        return self._secret_clean("ssh_key")

    def clean_folder(self) -> str:
        return services.inbox_folder_clean(self.cleaned_data.get("folder") or "")

    def clean_encoding(self) -> str:
        import codecs

        encoding = (self.cleaned_data.get("encoding") or "").strip()
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValidationError(
                    _("Unknown encoding %(encoding)s.") % {"encoding": repr(encoding)}
                ) from None
        return encoding

    def clean_column_aliases(self) -> dict:
        aliases = self.cleaned_data.get("column_aliases") or {}
        if not isinstance(aliases, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
        ):
            raise ValidationError(
                _(
                    'Give a JSON object of header text → column, e.g. {"Назва '
                    'книги": "title"}.'
                )
            )
        columns = services.importer_column_names()
        unknown = sorted({v for v in aliases.values() if v not in columns})
        if unknown:
            raise ValidationError(
                _("Not a column of any dataset: %(unknown)s (columns: %(columns)s).")
                % {"unknown": ", ".join(unknown), "columns": ", ".join(sorted(columns))}
            )
        return aliases

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name and name not in zoneinfo.available_timezones():
            raise ValidationError(
                _("Unknown time zone %(zone)s; use a name like Europe/Kyiv."),
                params={"zone": name},
            )
        return name

    def clean_max_reject_rate(self) -> float | None:
        rate = self.cleaned_data.get("max_reject_rate")
        if rate is not None and not 0 <= rate <= 1:
            raise ValidationError(_("Give a share between 0 and 1 (0.1 = 10%)."))
        return rate

    def clean_notify_emails(self) -> str:
        text = self.cleaned_data.get("notify_emails") or ""
        field = forms.EmailField()
        for address in Inbox(notify_emails=text).recipients():
            field.clean(address)
        return text

    def clean(self) -> dict:
        data = super().clean()
        every, crontab = (
            data.get("scan_every"),
            (data.get("scan_crontab") or "").strip(),
        )
        if every and crontab:
            raise ValidationError(_("Give an interval or a crontab line, not both."))
        self._destinations_clean(data)
        if data.get("preview_first") and "://" in (data.get("folder") or ""):
            self.add_error(
                "preview_first",
                _(
                    "Preview first is for local folders only, not yet for s3:// or sftp://."
                ),
            )
        if crontab:
            try:
                services.crontab_parse(crontab)
            except ValidationError as exc:
                self.add_error("scan_crontab", exc)
        return data

    def _destinations_clean(self, data: dict) -> None:
        """Refuse archive/failed folders that are not on the inbox's own store."""
        from .stores import is_remote, location_parse

        folder = data.get("folder") or ""
        for name in ("archive_folder", "failed_folder"):
            value = (data.get(name) or "").strip()
            if not value:
                data[name] = ""
                continue
            if not is_remote(folder):
                self.add_error(name, _("Only for s3:// and sftp:// folders."))
                continue
            try:
                destination, inbox = location_parse(value), location_parse(folder)
            except ValueError as exc:
                self.add_error(name, str(exc))
                continue
            if not destination.same_store(inbox):
                self.add_error(
                    name, _("Give a folder on the inbox's own bucket or server.")
                )
            elif destination.root == inbox.root:
                self.add_error(name, _("Give another folder than the inbox itself."))
            else:
                data[name] = destination.url

    def schedule(self) -> "services.Schedule":
        """Return the schedule the form asks for."""
        return services.Schedule(
            every=self.cleaned_data.get("scan_every"),
            crontab=(self.cleaned_data.get("scan_crontab") or "").strip(),
        )
