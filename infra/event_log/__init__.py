"""The event log: the one writer of every record the chat service (and the NLU collector) stores.
Records reach PostgreSQL off the request path, in batches, without loss and without doubles.

* ``tables``     what is written: one spec per table, and the row encoding;
* ``statements`` the SQL built from the specs, and telling an outage from a refused record;
* ``spool``      the local disk segments that hold records while PostgreSQL is away;
* ``writer``     ``EventLog``: the queue and the writer thread.


* ``emit(table, row)`` only appends to an in-memory queue; it never blocks on the database.
* A writer thread drains the queue every ``flush_interval_s`` (or at ``batch_size`` rows) and
  writes each batch in one transaction with ``INSERT … ON CONFLICT DO NOTHING`` on the tables'
  idempotency keys (``event_id`` + ``"timestamp"`` on the partitioned log tables,
  ``(session_id, conversation_turn)``, ``(recommendation_event_id, shop_id)``).
* When PostgreSQL is unreachable, batches go to an append-only spool (``data_dir/spool/events``,
  one JSON line per record, fsynced) and are replayed, oldest first, as soon as it answers again;
  new batches queue behind the spool so order is kept. A replayed record that had in fact reached
  the database (the commit's acknowledgement was lost) is skipped by the idempotency key.
* A record the database refuses for its content (a CHECK violation) is not retried forever: it goes
  to ``rejected.jsonl`` beside the spool with the error (one fsync per refused batch; rotated by
  size, ``NAVIYAM_EVENT_LOG_REJECTED_*``; listed by ``naviyam data quarantine --source events``),
  and the rest of its batch is written.

Rows are JSON-native (ISO timestamps, JSON-encoded documents) so the live path and the replay path
are the same code. ``nlu_training_data`` has no idempotency column in the schema; its key is
(created_at, user_id, input_text), checked with ``WHERE NOT EXISTS`` (one writer thread per process).
"""

from __future__ import annotations

from infra.event_log.tables import RECORD_KINDS, TABLES, UPDATES, TableSpec, encode_row, new_event_id
from infra.event_log.writer import EventLog, WriterStats

__all__ = ["RECORD_KINDS", "TABLES", "UPDATES", "EventLog", "TableSpec", "WriterStats", "encode_row", "new_event_id"]
