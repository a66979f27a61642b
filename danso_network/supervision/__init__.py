"""Supervision: the derived chain, visits with checklists, professional-direction links, monthly
meetings (giao ban) with P0 slips (issue #4)."""
