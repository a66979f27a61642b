"""Predicates of the JSON API beyond those of the feature packages (DESIGN.md §4 rule 6: a
permission is a predicate written once; fail-closed).

Personal data (CCCD, phone, date of birth) follows the one policy of the project,
:mod:`danso_network.auth.personal_data`, imported here so that the API and the pages cannot
differ: a hidden value is ``null`` in the API."""

from __future__ import annotations

from ..auth.personal_data import can_see_applicant_data, can_see_personal_data, personal_data_areas

__all__ = ["can_see_applicant_data", "can_see_personal_data", "personal_data_areas"]
