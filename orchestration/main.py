"""``naviyam``: the one command-line entry point of the project.

It sits above every layer it mounts: the platform's own commands (``infra.cli``: config, services,
db, data), each component's commands (each owns its Typer app), and ``naviyam demo``, the main job
end to end (``orchestration.demo``). Heavy imports happen inside the commands, so
``naviyam --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from infra import cli as platform
from models.nlu.cli import app as nlu_app
from models.ranking.cli import app as rank_app
from models.retrieval.cli import app as retrieval_app
from orchestration.cli import app as assets_app
from orchestration.simulation.cli import app as simulate_app
from serving.cli import app as service_app

app = typer.Typer(
    name="naviyam",
    help="Naviyam (나비얌): meal-card chatbot platform — data, models and service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("config")(platform.config)
app.add_typer(platform.services_app, name="services")
app.add_typer(platform.db_app, name="db")
app.add_typer(platform.data_app, name="data")


@app.command("demo")
def demo(
    scale: Annotated[Optional[float], typer.Option(help="Sample-data size multiplier.")] = None,
    regenerate: Annotated[bool, typer.Option(help="Regenerate the workbook even if it exists.")] = False,
) -> None:
    """Run the main job end to end: services, schema, sample data, ingest, and every later stage."""
    from orchestration.demo import run_demo

    platform.bootstrap()
    summary = run_demo(scale=scale, regenerate=regenerate, say=platform.step)
    if not summary.get("success"):
        platform.step("demo: FAILED (see the stages above); exiting with status 1")
        raise typer.Exit(1)


app.add_typer(assets_app, name="assets", help="Dagster assets: materialize, list, the 5-minute batch, retention.")
app.add_typer(nlu_app, name="nlu", help="Korean NLU: parse, predict, evaluate, train.")
app.add_typer(rank_app, name="rank", help="Wide&Deep ranking: train, features, benchmark.")
app.add_typer(service_app, name="service", help="The BentoML chat service: serve, chat, benchmark.")
app.add_typer(retrieval_app, name="retrieval", help="Korean hybrid retrieval: index, search, benchmark.")
app.add_typer(simulate_app, name="simulate", help="Closed loop: simulated children use the real service for days.")

if __name__ == "__main__":
    app()
