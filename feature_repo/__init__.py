"""The Feast feature repository of the ranker: ``definitions`` (entities, sources, views, service)
and ``store`` (configuration from the settings, publish / apply / materialize / reads /
feature_vectors mirror). See models/ranking/README.md."""
