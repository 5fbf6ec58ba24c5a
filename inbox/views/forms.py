"""Forms that validate what agents send from the inbox before a service acts on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils import timezone

from inbox import intents
from inbox.api.filters import validate_search
from inbox.models import Email

# Chosen explicitly, so that "any" survives in links where an empty value would not.
ANY_STATUS = "any"
# The date filters' range: wide enough for any real mail, narrow enough that "the day
# after" and a time-zone shift stay inside the calendar (9999-12-31 overflowed).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_DAY_RANGE = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]


class IntentField(forms.CharField):
    """An intent given by its name or its readable title (what the datalist offers)."""

    def clean(self, value):
        value = super().clean(value)
        name = intents.lookup(value or "")
        if name is None:
            raise forms.ValidationError(f"There is no intent called “{value}”.")
        return name


class ListFilterForm(forms.Form):
    """The folder filter bar: text search, status, handled or not, a received-date range."""

    q = forms.CharField(
        required=False,
        max_length=200,
        validators=[validate_search],
        label="Search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Search subject, body or sender",
                "data-search": "",
            }
        ),
    )
    status = forms.ChoiceField(
        required=False, choices=[(ANY_STATUS, "Any status"), *Email.Status.choices]
    )
    handled = forms.ChoiceField(
        required=False,
        choices=[("", "Open and handled"), ("open", "Not handled yet"), ("handled", "Handled")],
    )
    after = forms.DateField(
        required=False, label="From", validators=_DAY_RANGE,
        widget=forms.DateInput(attrs={"type": "date", "min": FIRST_DAY, "max": LAST_DAY}),
    )  # fmt: skip
    before = forms.DateField(
        required=False, label="To", validators=_DAY_RANGE,
        widget=forms.DateInput(attrs={"type": "date", "min": FIRST_DAY, "max": LAST_DAY}),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        after, before = data.get("after"), data.get("before")
        if after and before and after > before:
            self.add_error("before", "The end date is before the start date.")
        return data

    def filter_data(self) -> QueryDict:
        """The valid choices as parameters for ``inbox.api.filters.EmailFilter``."""
        data = QueryDict(mutable=True)
        cleaned = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        if cleaned.get("q"):
            data["search"] = cleaned["q"]
        if cleaned.get("status") not in (None, "", ANY_STATUS):
            data.setlist("status", [cleaned["status"]])
        if cleaned.get("handled") in ("open", "handled"):
            data["handled"] = "true" if cleaned["handled"] == "handled" else "false"
        if cleaned.get("after"):
            data["received_after"] = _day_start(cleaned["after"]).isoformat()
        if cleaned.get("before"):
            # "To" includes the whole day; the filter's bound is exclusive.
            data["received_before"] = _day_start(cleaned["before"] + timedelta(days=1)).isoformat()
        return data


class CorrectionForm(forms.Form):
    intent = IntentField(max_length=200)


class RelabelForm(forms.Form):
    intent = IntentField(max_length=200)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer id is a valid choice; emails that do not exist are simply not found.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()
        self.fields["ids"].error_messages["required"] = "Select at least one email."


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))
