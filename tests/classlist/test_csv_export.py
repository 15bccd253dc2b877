"""The access-request CSV (R-LIST-04) cannot carry a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.test import Client

from trygg.classlist.models import Consent
from trygg.directory.models import Person

pytestmark = pytest.mark.django_db


def test_r_list_04_a_shared_value_that_looks_like_a_formula_is_exported_as_text(
    api_client: Callable[[str | None], Client], classes: dict[str, int], person: Callable[[str], Person],
    strong_api_client: Callable[[str], Client],
) -> None:
    """A guardian name beginning with "=" is written with a leading apostrophe, so no spreadsheet runs it."""
    Person.objects.filter(username="mor.sara").update(name='=HYPERLINK("http://example.com","x")')
    Consent.objects.create(guardian=person("mor.sara"), pupil=person("sara.9b"), field="guardian_name")
    response = strong_api_client("rektor").get(
        f"/api/v1/classes/{classes['9B']}/contact-list/export?format=csv&requester=Firma")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1] == "'=HYPERLINK(\"http://example.com\",\"x\")"
