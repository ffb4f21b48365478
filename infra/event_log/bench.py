"""What the durable acknowledgement costs a turn: the latency of ``emit_many`` for one turn's
records (7, as the chat pipeline logs them) with ``durable_ack`` (fsynced journal) and without
(queued only), at concurrency 1 and 4, and how many records share one fsync (group commit).

    python -m infra.event_log.bench [--turns 300]

Writes to a scratch database it creates and drops (``naviyam_evbench_*``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path


def _turn(i: int) -> list[tuple[str, dict]]:
    now = datetime.now(timezone.utc)
    perf = {"timestamp": now, "operation_type": "chat", "total_time_ms": 10, "success": True}
    from infra.event_log import new_event_id

    return [("conversations", {"user_id": f"b{i % 50}", "session_id": f"s{i}", "input_text": "떡볶이 먹고 싶어",
                               "response_text": "추천해요", "timestamp": now, "conversation_turn": 1,
                               "event_id": new_event_id()})] + \
           [("performance_logs", {**perf, "event_id": new_event_id()}) for _ in range(6)]


def run(turns: int) -> None:
    from infra.db import get_engine
    from infra.event_log import EventLog
    from infra.schema import create_database, drop_database, prepare
    from infra.settings import get_settings

    settings = get_settings()
    name = f"naviyam_evbench_{uuid.uuid4().hex[:6]}"
    create_database(settings, name)
    engine = get_engine(settings.sqlalchemy_url(name))
    try:
        prepare(engine, settings)
        for durable in (False, True):
            for concurrency in (1, 4):
                with tempfile.TemporaryDirectory() as spool:
                    log = EventLog(engine, Path(spool), durable_ack=durable)
                    times: list[float] = []
                    lock = threading.Lock()

                    def worker(w: int) -> None:
                        for i in range(turns // concurrency):
                            events = _turn(w * turns + i)
                            t = time.perf_counter()
                            log.emit_many(events)
                            with lock:
                                times.append((time.perf_counter() - t) * 1000)
                            time.sleep(0.002)  # a turn's own work between two logs

                    threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    log.flush(60, require_db=True)
                    times.sort()
                    per_fsync = log.stats.journaled / max(1, log.stats.journal_fsyncs)
                    print(f"durable_ack={durable!s:5} concurrency={concurrency}: emit_many p50 {times[len(times) // 2]:.2f} ms, "
                          f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms over {len(times)} turns; "
                          f"{per_fsync:.1f} records per fsync")
                    log.close()
    finally:
        engine.dispose()
        drop_database(settings, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300)
    run(parser.parse_args().turns)
