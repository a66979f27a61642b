"""Issue #9 item 8 in a real browser: under the strict Content-Security-Policy the pages raise no
violation, and what used to be inline JavaScript still works from static/app.js (print buttons,
confirmations, select-all boxes, the page scripts)."""

from __future__ import annotations

import pytest

from .. import factories
from .conftest import serve

pytestmark = pytest.mark.e2e

def _build() -> dict[str, int]:
    """The test world, plus two applications the station head of commune B may submit and two
    collaborators in commune A (the meeting roll call)."""
    from danso_network.common.clock import today
    from danso_network.recruitment import services as rs
    from danso_network.recruitment.rules import MANUAL_CODES

    world = factories.build_world()
    factories.criteria(world.dong_nai)
    head = world.users["head_b"]
    for serial in (1, 2):
        application = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], serial), actor=head)
        factories.complete_dossier(application, head)
        rs.perform(application, "complete_dossier", actor=head)
        rs.perform(application, "screen", actor=head, on=today())
        rs.perform(application, "review", actor=head, ranking=serial,
                   manual_checks={code: {"ok": True} for code in MANUAL_CODES})
    factories.appoint(world.hamlets_a[0], 11)
    factories.appoint(world.hamlets_a[1], 12)
    return {"commune_a": world.commune_a.id, "commune_b": world.commune_b.id, "province": world.dong_nai.id,
            "head_b": world.users["head_b"].id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory, "csp", _build, LOGIN_RATE_LIMIT="100 per minute") as served:
        yield served


@pytest.fixture
def visit(visitor, site):
    """``visit(username)``: a logged-in page that records console errors and CSP violations."""
    return lambda username: visitor(site[0], username)


def assert_no_violation(page):
    assert page.evaluate("window.__csp") == []
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
    assert page.console_errors == []


def test_pages_raise_no_policy_violation(visit, site):
    _, ids = site
    page = visit("admin75")
    for url in ["/", "/units/", f"/units/{ids['commune_a']}", f"/admin/users/{ids['head_b']}",
                f"/criteria/{ids['province']}/versions/new", f"/collaborators/roster/{ids['commune_a']}",
                f"/allowances/sheet/{ids['commune_a']}", "/audit/"]:
        page.goto(url)
        page.wait_for_load_state("load")
        assert_no_violation(page)
    # Bootstrap's own scripts still run: the account menu opens.
    page.locator(".navbar .dropdown-toggle", has_text="admin75").click()
    assert page.get_by_role("link", name="Đổi mật khẩu").is_visible()


def test_print_button_prints(visit, site):
    _, ids = site
    page = visit("admin75")
    page.goto(f"/collaborators/roster/{ids['commune_a']}")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="In danh sách").click()
    assert page.evaluate("window.__printed") == 1
    assert_no_violation(page)


def test_confirmation_dismissed_keeps_the_page_and_sends_nothing(visit, site):
    _, ids = site
    page = visit("admin75")
    url = f"/admin/users/{ids['head_b']}"
    page.goto(url)
    posted = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    messages = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Khoá tài khoản").click()
    assert messages == ["Bạn chắc chắn muốn khoá tài khoản này?"]
    assert posted == []
    assert page.url.endswith(url)
    assert page.get_by_role("button", name="Khoá tài khoản").is_visible()

    # Accepting sends the form (answered here without touching the account).
    page.route("**/active", lambda route: route.fulfill(status=200, content_type="text/html",
                                                          body="<p>sent</p>"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Khoá tài khoản").click()
    page.wait_for_load_state()
    assert len(posted) == 1 and posted[0].endswith("/active")


def test_select_all_ticks_and_unticks_every_application(visit):
    page = visit("truongtram_b")
    page.goto("/recruitment/submit")
    boxes = page.locator("input[name=application]")
    assert boxes.count() == 2
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, False]
    page.get_by_label("Chọn tất cả").check()
    assert [boxes.nth(i).is_checked() for i in range(2)] == [True, True]
    page.get_by_label("Chọn tất cả").uncheck()
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, False]
    assert_no_violation(page)


def test_meeting_roll_call_tick_all_buttons(visit, site):
    _, ids = site
    page = visit("vienchuc_a")
    page.goto(f"/supervision/meetings/{ids['commune_a']}/record")
    attended = page.locator("input[data-group=attended]")
    assert attended.count() == 2
    page.get_by_role("button", name="chọn tất cả").first.click()
    assert [attended.nth(i).is_checked() for i in range(2)] == [True, True]
    assert not page.locator("input[data-group=p0]").first.is_checked()
    assert_no_violation(page)


def test_criteria_quota_presets_fill_and_lock_the_bands(visit, site):
    _, ids = site
    page = visit("admin75")
    page.goto(f"/criteria/{ids['province']}/versions/new")
    first_upper = page.locator("#bands tbody tr").first.locator("input").first
    select = page.locator("#quota_preset")
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    custom = next(v for v in options if v not in ("gia_lai", "hai_duong"))
    select.select_option(custom)
    assert first_upper.evaluate("i => i.readOnly") is False
    first_upper.fill("123")
    select.select_option("gia_lai")
    assert first_upper.evaluate("i => i.readOnly") is True
    assert first_upper.input_value() != "123"
    assert_no_violation(page)
