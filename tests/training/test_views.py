"""Training pages: list, new course, course page with search and attendance, removal with
confirmation, printable list; scope (station A never reaches commune B's course, viewers never
write); bad input keeps the form and changes nothing. Also the application page's training
panel for a primary-school candidate."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from danso_network.common import clock
from danso_network.extensions import db
from danso_network.training import services as training
from danso_network.training.models import TrainingAttendance, TrainingCourse

from ..conftest import csrf_token, login
from ..factories import appoint
from .conftest import contracted_primary, make_course


class Browser:
    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})})


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


COURSE_FORM = {"title": "Tập huấn công tác dân số cho CTV mới", "organiser": "Trung tâm Y tế khu vực Đồng Xoài",
               "starts_on": "2025-10-13", "ends_on": "2025-10-14", "hours": "16", "is_population_work": "y",
               "location": "Hội trường trạm"}


@pytest.fixture
def courses(world):
    made = {"a": make_course(world.commune_a, world.users["head_a"], title="Lớp phường A"),
            "b": make_course(world.commune_b, world.users["head_b"], title="Lớp xã B"),
            "province": make_course(world.dong_nai, world.users["admin"], title="Lớp của tỉnh")}
    db.session.commit()
    return made


def test_anonymous_users_go_to_login(client, world):
    for url in ("/training/", "/training/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_shows_own_and_province_courses_only(app, world, courses):
    page = text(Browser(app, "truongtram_a").get("/training/"))
    assert "Lớp phường A" in page and "Lớp của tỉnh" in page and "Lớp xã B" not in page
    assert "Lớp xã B" in text(Browser(app, "xem_b").get("/training/?q=lop xa"))
    assert "Lớp xã B" not in text(Browser(app, "xem_b").get("/training/?kind=other"))
    assert "Không có lớp tập huấn" in text(Browser(app, "chuacapquyen").get("/training/"))


def test_station_head_creates_a_course_for_the_commune(app, world):
    head = Browser(app, "truongtram_a")
    page = text(head.get("/training/new"))
    assert world.commune_a.full_name in page and world.commune_b.full_name not in page
    response = head.post("/training/new", {**COURSE_FORM, "unit_id": str(world.commune_a.id)})
    assert response.status_code == 302
    course = db.session.scalar(select(TrainingCourse))
    assert (course.unit_id, course.is_population_work, str(course.hours)) == (world.commune_a.id, True, "16.0")
    assert course.title in text(head.get(response.headers["Location"]))


@pytest.mark.parametrize("field, value, message", [
    ("ends_on", "2025-10-01", "Ngày kết thúc không được trước ngày bắt đầu."),
    ("hours", "0", "Số giờ học phải lớn hơn 0."),
    ("hours", "mười", "Số giờ học phải là một số."),
    ("title", "", "Vui lòng nhập tên lớp tập huấn."),
])
def test_bad_course_input_keeps_the_form_and_changes_nothing(app, world, field, value, message):
    head = Browser(app, "truongtram_a")
    response = head.post("/training/new", {**COURSE_FORM, "unit_id": str(world.commune_a.id), field: value})
    assert response.status_code == 422
    page = text(response)
    assert message in page and "Hội trường trạm" in page  # what was typed is still there
    assert count(TrainingCourse) == 0


def test_out_of_scope_unit_is_not_a_choice(app, world):
    response = Browser(app, "truongtram_a").post("/training/new", {**COURSE_FORM, "unit_id": str(world.commune_b.id)})
    assert response.status_code == 422 and count(TrainingCourse) == 0


def test_head_a_cannot_see_or_add_to_a_course_of_commune_b(app, world, courses):
    person = appoint(world.hamlets_a[0], 1).candidate
    db.session.commit()
    head = Browser(app, "truongtram_a")
    course_b = courses["b"].id
    for url in (f"/training/{course_b}", f"/training/{course_b}/print", f"/training/{course_b}/edit"):
        assert head.get(url).status_code == 403, url
    assert head.post(f"/training/{course_b}/attendance", {"candidate_id": person.id}).status_code == 403
    assert head.get(f"/training/{courses['province'].id}/edit").status_code == 403  # sees it, does not edit it
    assert head.get("/training/999999").status_code == 404
    assert count(TrainingAttendance) == 0


def test_viewer_reads_but_cannot_write(app, world, courses):
    person = appoint(world.hamlets_b[1], 2).candidate
    db.session.commit()
    viewer = Browser(app, "xem_b")
    page = text(viewer.get(f"/training/{courses['b'].id}?q=ung vien"))
    assert "Lớp xã B" in page and "Thêm vào lớp" not in page
    assert viewer.get("/training/new").status_code == 403
    assert viewer.post(f"/training/{courses['b'].id}/attendance", {"candidate_id": person.id}).status_code == 403
    assert viewer.post("/training/new", {**COURSE_FORM, "unit_id": str(world.commune_b.id)}).status_code == 403
    assert count(TrainingAttendance) == 0 and count(TrainingCourse) == 3


def test_search_add_complete_and_print(app, world, courses):
    mine = appoint(world.hamlets_a[0], 3, full_name="Điểu Thị Hằng").candidate
    appoint(world.hamlets_b[0], 4, full_name="Điểu Thị Hương")
    db.session.commit()
    head = Browser(app, "truongtram_a")
    url = f"/training/{courses['province'].id}"
    page = text(head.get(f"{url}?q=dieu thi"))
    assert "Điểu Thị Hằng" in page and "Điểu Thị Hương" not in page  # only people of commune A
    response = head.post(f"{url}/attendance", {"candidate_id": mine.id, "q": "dieu thi"})
    assert response.status_code == 302
    page = text(head.get(url))
    assert "Điểu Thị Hằng" in page and "Khu phố 1" in page and world.commune_a.full_name in page
    # The course ended on 14/10/2025: completion can be recorded now.
    assert head.post(f"{url}/attendance", {"candidate_id": mine.id, "completed": "y"}).status_code == 302
    row = db.session.scalar(select(TrainingAttendance))
    db.session.refresh(row)
    assert row.completed
    printed = text(head.get(f"{url}/print"))
    assert "DANH SÁCH HỌC VIÊN" in printed and "Ký tên" in printed and "Điểu Thị Hằng" in printed
    assert "data-print" in printed


def test_completion_before_the_course_ends_is_refused_on_the_page(app, world):
    soon = clock.today() + timedelta(days=5)
    course = make_course(world.commune_a, world.users["head_a"], starts_on=clock.today(), ends_on=soon)
    person = appoint(world.hamlets_a[0], 5).candidate
    db.session.commit()
    head = Browser(app, "truongtram_a")
    response = head.post(f"/training/{course.id}/attendance", {"candidate_id": person.id, "completed": "y"})
    assert response.status_code == 422
    page = text(response)
    assert "chỉ ghi “Hoàn thành” sau khi lớp đã kết thúc" in page and person.full_name in page
    assert count(TrainingAttendance) == 0


def test_unknown_person_or_other_areas_person_changes_nothing(app, world, courses):
    other = appoint(world.hamlets_b[0], 6).candidate
    db.session.commit()
    head = Browser(app, "truongtram_a")
    url = f"/training/{courses['province'].id}/attendance"
    assert head.post(url, {"candidate_id": "999999"}).status_code == 422
    assert head.post(url, {"candidate_id": "abc"}).status_code == 422
    assert head.post(url, {"candidate_id": other.id}).status_code == 403
    assert count(TrainingAttendance) == 0


def test_remove_needs_confirmation_and_only_while_not_completed(app, world, courses):
    person = appoint(world.hamlets_a[0], 7).candidate
    row = training.record_attendance(courses["a"], candidate=person, completed=False, actor=world.users["head_a"],
                                     on=date(2025, 10, 1))
    done = training.record_attendance(courses["a"], candidate=appoint(world.hamlets_a[1], 8).candidate,
                                      completed=True, actor=world.users["head_a"], on=date(2025, 10, 20))
    db.session.commit()
    head = Browser(app, "truongtram_a")
    url = f"/training/attendance/{row.id}/remove"
    assert "Tôi xác nhận" in text(head.get(url))
    response = head.post(url)
    assert response.status_code == 422 and "Vui lòng đánh dấu xác nhận" in text(response)
    assert count(TrainingAttendance) == 2
    assert head.post(f"/training/attendance/{done.id}/remove", {"confirm": "y"}).status_code == 409
    assert count(TrainingAttendance) == 2
    assert head.post(url, {"confirm": "y"}).status_code == 302
    assert count(TrainingAttendance) == 1
    # Out of scope: station B cannot remove commune A's rows (it cannot even see that course).
    assert Browser(app, "truongtram_b").post(f"/training/attendance/{done.id}/remove",
                                             {"confirm": "y"}).status_code == 403


def test_station_sees_only_its_own_people_on_a_province_course(app, world, courses):
    province = courses["province"]
    training.record_attendance(province, candidate=appoint(world.hamlets_a[0], 9, full_name="Người Phường A").candidate,
                               completed=False, actor=world.users["head_a"], on=date(2025, 10, 1))
    training.record_attendance(province, candidate=appoint(world.hamlets_b[0], 10, full_name="Người Xã B").candidate,
                               completed=False, actor=world.users["head_b"], on=date(2025, 10, 1))
    db.session.commit()
    page = text(Browser(app, "truongtram_a").get(f"/training/{province.id}"))
    assert "Người Phường A" in page and "Người Xã B" not in page
    page = text(Browser(app, "admin75").get(f"/training/{province.id}/print"))
    assert "Người Phường A" in page and "Người Xã B" in page


def test_profile_section_lists_courses_and_hours(app, world, courses):
    collaborator = appoint(world.hamlets_a[0], 11)
    training.record_attendance(courses["a"], candidate=collaborator.candidate, completed=True,
                               actor=world.users["head_a"], on=date(2025, 10, 20))
    with app.test_request_context("/"):
        section = training.profile_section(collaborator, world.users["head_a"])
        html = render_template_string('{% include "training/_profile_section.html" %}', training_section=section)
    assert "Lớp phường A" in html and "16" in html and "Đã hoàn thành tập huấn công tác dân số" in html


# --- the application page of a primary-school candidate ------------------------------------------


def test_application_page_shows_whether_the_training_is_recorded(app, world):
    application = contracted_primary(world)
    db.session.commit()
    head = Browser(app, "truongtram_b")
    page = text(head.get(f"/recruitment/applications/{application.id}"))
    assert "Chưa có kết quả hoàn thành lớp tập huấn công tác dân số" in page
    assert 'href="/training/?kind=population"' in page
    assert "training_completed_on" not in page
    course = make_course(world.commune_b, world.users["head_b"], title="Lớp CTV mới Ấp Tân Lập")
    training.record_attendance(course, candidate=application.candidate, completed=True, actor=world.users["head_b"],
                               on=date(2025, 10, 15))
    db.session.commit()
    page = text(head.get(f"/recruitment/applications/{application.id}"))
    assert re.search(r"Đã hoàn thành.*Lớp CTV mới Ấp Tân Lập.*13/10/2025 – 14/10/2025", page, re.S)
    assert f'href="/training/{course.id}"' in page


def test_activation_through_the_page_is_refused_then_accepted(app, world):
    application = contracted_primary(world)
    db.session.commit()
    head = Browser(app, "truongtram_b")

    def activate():
        version = db.session.scalar(select(type(application).version).where(type(application).id == application.id))
        return head.client.post(f"/recruitment/applications/{application.id}/transitions", data={
            "action": "activate", "activate-csrf_token": head.token, "activate-version": str(version),
            "activate-start_date": "2025-10-20"})

    response = activate()
    assert response.status_code == 200 and "Chưa thực hiện được" in text(response)
    assert "Hãy ghi kết quả ở mục Tập huấn (/training)" in text(response)
    db.session.refresh(application)
    assert application.state == "contracted"
    course = make_course(world.commune_b, world.users["head_b"])
    training.record_attendance(course, candidate=application.candidate, completed=True, actor=world.users["head_b"],
                               on=date(2025, 10, 15))
    db.session.commit()
    assert activate().status_code == 302
    db.session.refresh(application)
    assert application.state == "active"


def test_organiser_corrects_a_course_and_bad_input_changes_nothing(app, world, courses):
    head = Browser(app, "truongtram_a")
    url = f"/training/{courses['a'].id}/edit"
    assert "Lớp phường A" in text(head.get(url))
    response = head.post(url, {**COURSE_FORM, "unit_id": str(world.commune_a.id), "title": "Lớp phường A (sửa)",
                               "ends_on": "2025-10-01"})
    assert response.status_code == 422 and "Lớp phường A (sửa)" in text(response)
    db.session.refresh(courses["a"])
    assert courses["a"].title == "Lớp phường A"
    response = head.post(url, {**COURSE_FORM, "unit_id": str(world.commune_a.id), "title": "Lớp phường A (sửa)"})
    assert response.status_code == 302
    db.session.refresh(courses["a"])
    assert courses["a"].title == "Lớp phường A (sửa)" and courses["a"].unit_id == world.commune_a.id


# --- lists counted and sliced by the database (issue #8) ------------------------------------------


def test_course_list_pages_follow_each_other(app, world, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 2)
    for i in range(5):
        make_course(world.commune_a, world.users["head_a"], title=f"Lớp số {i}", starts_on=date(2025, 10, 1 + i),
                    ends_on=date(2025, 10, 1 + i))
    db.session.commit()
    head = Browser(app, "truongtram_a")
    pages = [text(head.get(f"/training/?page={n}")) for n in (1, 2, 3)]
    found = [re.findall(r"Lớp số \d", page) for page in pages]
    assert found == [["Lớp số 4", "Lớp số 3"], ["Lớp số 2", "Lớp số 1"], ["Lớp số 0"]]  # latest first
    assert all("5 lớp" in page for page in pages)  # the count is the whole list's
    # A filter keeps its pages: the search runs in the database, without diacritics.
    searched = text(head.get("/training/?q=LOP SO&page=3"))
    assert re.findall(r"Lớp số \d", searched) == ["Lớp số 0"] and "5 lớp" in searched
    assert re.findall(r"Lớp số \d", text(head.get("/training/?q=lop so 3"))) == ["Lớp số 3"]


def test_course_search_follows_a_renamed_course(world):
    head = world.users["head_a"]
    course = make_course(world.commune_a, head, title="Lớp cũ")
    values = {k: getattr(course, k) for k in ("organiser", "starts_on", "ends_on", "hours", "is_population_work")}
    training.update_course(course, title="Kỹ năng tư vấn", actor=head, **values)
    prefixes = [world.commune_a.path]
    assert [c.id for c in training.courses_visible(prefixes, q="ky nang tu van")] == [course.id]
    assert training.courses_visible(prefixes, q="lop cu") == []
    # The title and the organiser are searched apart: a search never spans both.
    assert training.courses_visible(prefixes, q="tu van trung tam") == []
    assert training.course_page(prefixes, q="dong xoai").total == 1


def test_attendance_list_pages_follow_each_other(app, world, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 2)
    head = world.users["head_a"]
    course = make_course(world.commune_a, head)
    for i in range(5):
        person = appoint(world.hamlets_a[i % 2], 20 + i, full_name=f"Học Viên {chr(65 + i)}").candidate
        training.record_attendance(course, candidate=person, completed=False, actor=head, on=date(2025, 10, 1))
    db.session.commit()
    browser = Browser(app, "truongtram_a")
    pages = [text(browser.get(f"/training/{course.id}?page={n}")) for n in (1, 2, 3)]
    assert [re.findall(r"Học Viên [A-E]", page) for page in pages] == [
        ["Học Viên A", "Học Viên B"], ["Học Viên C", "Học Viên D"], ["Học Viên E"]]
    assert all("5 người, 0 đã hoàn thành" in page for page in pages)
    assert len(re.findall(r"Học Viên [A-E]", text(browser.get(f"/training/{course.id}/print")))) == 5
