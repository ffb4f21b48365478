"""``naviyam retrieval ...``: build the index, search, purge caches, run the benchmark.

Mounted by ``orchestration.main`` (``app.add_typer(models.retrieval.cli.app, name="retrieval")``).
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from infra.cli import bootstrap

app = typer.Typer(help="Korean hybrid retrieval: index, search, benchmark.", no_args_is_help=True)


@app.command()
def index(full: Annotated[bool, typer.Option("--full", help="Rewrite every point.")] = False) -> None:
    """Build (incrementally) the shops/menus index from PostgreSQL."""
    bootstrap()
    from infra.db import get_engine
    from models.retrieval.index import build_index

    typer.echo(json.dumps(build_index(get_engine(), full=full).as_dict(), ensure_ascii=False, indent=2))


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="The query.")],
    target: Annotated[str, typer.Option(help="menus or shops")] = "menus",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, dense or sparse")] = "hybrid",
    filters: Annotated[Optional[str], typer.Option(help='JSON, e.g. {"max_price": 5000, "food_card_only": true}')] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
) -> None:
    """Search and print the hits as JSON lines."""
    bootstrap()
    from models.retrieval import EmptyQueryError, get_retriever

    try:
        flt = json.loads(filters) if filters else None
        r = get_retriever()
        hits = r.search(text, flt, limit=limit, target=target, mode=mode, use_cache=not no_cache)  # type: ignore[arg-type]
    except (EmptyQueryError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for h in hits:
        typer.echo(json.dumps({"doc_id": h.doc_id, "score": round(h.score, 5), **{
            k: h.payload.get(k) for k in ("shop_name", "menu_name", "price", "category")}}, ensure_ascii=False))
    trace = r.last_trace
    typer.echo(json.dumps({"trace": trace.__dict__ if trace else None}, ensure_ascii=False), err=True)
    r.flush()


@app.command()
def purge() -> None:
    """Delete expired rag_query_cache rows and stale embedding_cache rows."""
    bootstrap()
    from infra.db import get_engine
    from models.retrieval.cache import purge_expired_caches

    typer.echo(json.dumps(purge_expired_caches(get_engine()).__dict__))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """The benchmark: recall/MRR/nDCG@10 and latency (``--help`` lists its options)."""
    from models.retrieval.bench import main

    raise typer.Exit(main(list(ctx.args)))
