"""The accessibility check itself: axe-core runs in the page and reports what it should."""

import pytest

from tests.browser.axe import violations

pytestmark = [pytest.mark.browser]


def test_axe_reports_an_image_without_text_and_a_field_without_label(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><input type="text"></main></html>')
    found = {v["id"] for v in violations(page)}
    context.close()
    assert {"image-alt", "label"} <= found
