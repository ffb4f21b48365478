"""Housekeeping of the log and cache tables: the 5-minute batch's chores, retention, partitions."""
