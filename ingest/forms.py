"""Forms of the dashboard: the CSV upload and the state filter."""

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from . import conf
from .models import InboxFile


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
    return (
        f"{name}: over the upload limit of {conf.max_upload_size():,} bytes; "
        "nothing was uploaded."
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes one or several files under one name."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv"}))
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
        label="CSV files",
        help_text="One or several .csv files, or drop them here.",
    )

    def clean_file(self) -> list[UploadedFile]:
        limit = conf.max_upload_size()
        errors = []
        for upload in self.cleaned_data["file"]:
            if not upload.name.lower().endswith(".csv"):
                errors.append(
                    f"{upload.name}: not a .csv file; only CSV files are imported."
                )
            elif upload.size > limit:
                errors.append(
                    f"{upload.name}: {upload.size:,} bytes is over the upload "
                    f"limit of {limit:,} bytes."
                )
        if errors:
            raise forms.ValidationError(errors)
        return self.cleaned_data["file"]


class StateFilterForm(forms.Form):
    """The dashboard's filter: one ledger state, or all."""

    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "All states"), *InboxFile.State.choices],
    )
