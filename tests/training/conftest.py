"""Helpers for the training tests: courses in the test world, and an application driven to the
contracted state for a primary-school candidate in the difficult hamlet (the exception of
TT 02/2021/TT-BYT Art. 2.1)."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import DOSSIER_ITEMS
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Action
from danso_network.training import services as training

from .. import factories

JUSTIFICATION = "Ấp đồng bào S'tiêng, họp ấp không có người tốt nghiệp THCS nhận nhiệm vụ"


def make_course(unit, actor, *, title="Tập huấn công tác dân số cho CTV mới", starts_on=date(2025, 10, 13),
                ends_on=date(2025, 10, 14), hours=16, population=True, **kw):
    return training.create_course(unit, title=title, organiser="Trung tâm Y tế khu vực Đồng Xoài",
                                  starts_on=starts_on, ends_on=ends_on, hours=hours, is_population_work=population,
                                  actor=actor, **kw)


def contracted_primary(world, serial: int = 1, *, contract_date=date(2025, 10, 5)):
    """A primary-school candidate for Ấp Tân Lập (difficult, ethnic-minority), chosen under the
    exception and brought to the contracted state through the recruitment services."""
    if rs.criteria_for(world.dong_nai) is None:
        factories.criteria(world.dong_nai)
    hamlet = world.hamlets_b[0]
    head, centre = world.users["head_b"], world.users["centre"]
    app = rs.create_application(**factories.candidate_fields(hamlet, serial, education="primary"), actor=head)
    rs.update_dossier(app, items={k: True for k in DOSSIER_ITEMS}, application_signed_on=date(2025, 9, 1),
                      exception_justification=JUSTIFICATION, actor=head)
    checks = {c: {"ok": True} for c in MANUAL_CODES}
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": checks}), (Action.SUBMIT, {})]:
        rs.perform(app, action, actor=head, **extra)
    assert app.screening_passed, app.screening
    rs.perform(app, Action.APPROVE, actor=centre)
    rs.issue_decision([app], number=f"{serial}/QĐ-TTYT", issued_on=date(2025, 10, 1), signer_name="Lê Văn A",
                      signer_title="Giám đốc", issuer_name=world.centre.name, actor=centre)
    rs.perform(app, Action.CONTRACT, actor=centre, contract_date=contract_date, allowance_tier="Mức chung")
    db.session.flush()
    return app


@pytest.fixture
def criteria(world):
    factories.criteria(world.dong_nai)
    db.session.commit()
    return world
