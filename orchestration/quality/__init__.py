"""Data-quality checks beyond dbt's tests: great-expectations suites and §13 monitoring thresholds."""
