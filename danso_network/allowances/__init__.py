"""Monthly allowances (chi bồi dưỡng): the province's rules, the base salary and the monthly sheets."""
