"""How the Dagster UI shows what an asset produced with models/: the MLflow run as a link, its
figures inline, and tables as markdown rather than raw JSON."""

import dagster as dg

from models.plots import markdown_images, markdown_table

__all__ = ["markdown_images", "markdown_table", "mlflow_run_metadata"]


def mlflow_run_metadata(run_id: str | None) -> dict:
    """The MLflow run as a link, and its figures inline (markdown images) in the Dagster UI."""
    if not run_id:
        return {}
    from models.tracking import run_figures, run_url

    out: dict = {"mlflow_run_id": run_id}
    url = run_url(run_id)
    if url:
        out["mlflow_run"] = dg.MetadataValue.url(url)
    figures = run_figures(run_id)
    if figures:
        out["plots"] = dg.MetadataValue.md(markdown_images(figures))
    return out
