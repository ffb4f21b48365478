"""How the Dagster UI shows what an asset produced with models/: the MLflow run as a link, its
figures inline, and tables as markdown rather than raw JSON."""

from collections.abc import Mapping

import dagster as dg

from models.plots import markdown_images, markdown_table

__all__ = ["markdown_images", "markdown_table", "mlflow_run_metadata"]


def mlflow_run_metadata(run_id: str | None, figures: Mapping[str, bytes] | None = None) -> dict:
    """The MLflow run as a link, and its figures inline (markdown images) in the Dagster UI.
    ``figures`` the caller already holds are shown as they are (not downloaded back from the run);
    otherwise the run's own are read."""
    out: dict = {}
    if run_id:
        from models.tracking import run_figures, run_url

        out["mlflow_run_id"] = run_id
        url = run_url(run_id)
        if url:
            out["mlflow_run"] = dg.MetadataValue.url(url)
        if figures is None:
            figures = run_figures(run_id)
    if figures:
        out["plots"] = dg.MetadataValue.md(markdown_images(figures))
    return out
