"""Orchestration: the whole data graph of Naviyam as Dagster assets.

``orchestration.definitions.defs`` is the one ``Definitions`` object (``dagster dev`` loads it);
``orchestration.materialize`` materializes it from the command line with progress output and
``orchestration.cli`` is the ``naviyam assets`` command group. Each domain lives in its own
package with a ``defs`` of its assets, checks, jobs and schedules:

* ``ingest``       - database schema, sample workbook, ingest into the raw tables, chat-log sources
* ``warehouse``    - the dbt project (staging -> intermediate -> marts in schema ``analytics``)
* ``quality``      - great-expectations suites on the marts and the §13 monitoring thresholds
* ``operational``  - derived columns written back into the spec's tables in ``public``
* ``maintenance``  - the 5-minute batch, cache cleanup, training batch, retention, partitions

Importing this package is cheap; Dagster and dbt load only when ``definitions`` is imported.
"""
