"""The dbt project as Dagster assets (models, seeds; tests become asset checks)."""
