"""The online chat service: BentoML serves the whole pipeline over HTTP.

Modules, by domain (pure logic first, I/O at the edges):

* ``meal_card``      balance, affordability, the month-end low-balance rule
* ``coupon_wallet``  coupon applicability, best-coupon choice, final price; wallet SQL
* ``strategy``       turn count → onboarding / data_building / normal / urgent; urgent reweighting
* ``dialogue``       multi-turn context: refinement ("매운 거 빼고"), back-reference ("아까 거")
* ``answer``         Korean answers from a template grammar (an LLM could fill the same interface)
* ``ab``             stable A/B assignment of ranking variants
* ``ports``          the small Protocols the pipeline codes against
* ``adapters``       the real NLU / retrieval / ranking / Postgres / Redis behind those Protocols
* ``pipeline``       one chat turn, stage by stage
* ``schemas``        pydantic request and response models (the OpenAPI document)
* ``service``        the ``@bentoml.service`` class
* ``cli``            ``serve`` / ``chat`` / ``bench`` and ``demo_chats``

Every record the service stores goes through ``infra.event_log`` (batched, lossless, non-blocking,
with a local spool and replay).
"""
