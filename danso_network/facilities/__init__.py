"""Health facilities (issue #12): the Department, area health centres and commune health
stations, their communes served over time, created by hand or from a file."""
