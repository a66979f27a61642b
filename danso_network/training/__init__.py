"""Training courses, attendance and the training gate on activation (TT 02/2021/TT-BYT Art. 2.1)."""
