"""Forms of the dashboard: the CSV upload and the state filter."""

from django import forms
from django.core.files.uploadedfile import UploadedFile

from . import conf
from .models import InboxFile


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
