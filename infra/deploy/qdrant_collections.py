"""Create the Qdrant server's collections from ``infra/deploy/qdrant/collections.yaml``: vectors,
sparse modifier, shards, replicas and payload indexes (the Job in ``k8s/base/qdrant/`` runs it).

    python -m infra.deploy.qdrant_collections --url http://qdrant:6333 plan    # print the requests
    python -m infra.deploy.qdrant_collections --url http://qdrant:6333 apply   # create what is missing

An existing collection is left as it is (shard numbers cannot change in place); a missing payload
index is added. The service and the index build then find the collections ready
(``ServerStore.ensure_collection`` only creates what is absent).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent / "qdrant" / "collections.yaml"


def load(path: Path = CONFIG) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def requests(config: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """The REST calls that create the collections: (method, path, body)."""
    out = []
    for name, c in config["collections"].items():
        coll = config["prefix"] + name
        body = {
            "vectors": {k: {"size": v["size"], "distance": v["distance"]} for k, v in c["vectors"].items()},
            "sparse_vectors": {k: {"modifier": v["modifier"]} for k, v in c["sparse_vectors"].items()},
            "shard_number": c["shard_number"], "replication_factor": c["replication_factor"],
            "write_consistency_factor": c["write_consistency_factor"],
        }
        out.append(("PUT", f"/collections/{coll}", body))
        for field, kind in c["payload_indexes"].items():
            out.append(("PUT", f"/collections/{coll}/index", {"field_name": field, "field_schema": kind}))
    return out


def apply(client, config: dict[str, Any]) -> list[str]:
    """Create missing collections and payload indexes through ``client`` (a QdrantClient); returns what it did."""
    from qdrant_client import models as m

    distances = {"cosine": m.Distance.COSINE, "dot": m.Distance.DOT, "euclid": m.Distance.EUCLID}
    modifiers = {"idf": m.Modifier.IDF, "none": m.Modifier.NONE}
    done = []
    for name, c in config["collections"].items():
        coll = config["prefix"] + name
        if not client.collection_exists(coll):
            client.create_collection(
                coll,
                vectors_config={k: m.VectorParams(size=v["size"], distance=distances[v["distance"].lower()])
                                for k, v in c["vectors"].items()},
                sparse_vectors_config={k: m.SparseVectorParams(modifier=modifiers[v["modifier"].lower()])
                                       for k, v in c["sparse_vectors"].items()},
                shard_number=c["shard_number"], replication_factor=c["replication_factor"],
                write_consistency_factor=c["write_consistency_factor"],
            )
            done.append(f"created {coll} ({c['shard_number']} shards × {c['replication_factor']} replicas)")
        schema = client.get_collection(coll).payload_schema or {}
        for field, kind in c["payload_indexes"].items():
            if field not in schema:
                client.create_payload_index(coll, field, field_schema=m.PayloadSchemaType(kind))
                done.append(f"indexed {coll}.{field} ({kind})")
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=None, help="Qdrant server URL (default: NAVIYAM_QDRANT_URL)")
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("action", choices=["plan", "apply"])
    args = ap.parse_args(argv)
    config = load(args.config)
    if args.action == "plan":
        for method, path, body in requests(config):
            print(method, path, json.dumps(body, ensure_ascii=False))
        return 0
    from qdrant_client import QdrantClient

    from infra.settings import get_settings

    settings = get_settings()
    url = args.url or settings.qdrant_url
    if not url:
        print("no Qdrant URL: pass --url or set NAVIYAM_QDRANT_URL", file=sys.stderr)
        return 2
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    for line in apply(QdrantClient(url=url, api_key=key, timeout=30), config):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
