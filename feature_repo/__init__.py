"""The Feast feature repository of the ranker: ``definitions`` (entities, sources, views, service)
over the dbt feature-history marts, and ``store`` (configuration from the settings, the dbt
build of the history / apply / materialize / reads / feature_vectors mirror). See
models/ranking/README.md."""
