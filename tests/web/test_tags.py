"""Words for the reader: times said as people say them (R-I18N-01)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone, translation

from trygg.web.templatetags.web_tags import when


def test_r_i18n_01_times_are_relative_and_translated() -> None:
    now = timezone.localtime().replace(hour=8, minute=14, second=0, microsecond=0)
    with translation.override("nb"):
        assert when(now) == "i dag 08:14"
        assert when(now - timedelta(days=1)) == "i går 08:14"
    with translation.override("da"):
        assert when(now - timedelta(days=1)) == "i går 08:14"
    with translation.override("en"):
        assert when(now) == "today 08:14"
        older = when(now.replace(year=now.year - 1))
        assert str(now.year - 1) in older and "T" not in older  # never a raw ISO timestamp
    assert when(None) == ""


def test_a_sign_in_is_named_by_browser_and_system() -> None:
    from trygg.web.templatetags.web_tags import device

    chrome_android = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/126.0 Mobile Safari/537.36")
    assert device(chrome_android) == "Chrome · Android"
    assert device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 "
                  "Mobile/15E148 Safari/604.1") == "Safari · iPhone"
    assert device("curl/8.0") == "curl/8.0"
