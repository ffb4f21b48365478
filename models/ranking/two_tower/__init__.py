"""Group B of the ranking A/B test (spec §12 scenario 3): a LoRA-adapted multilingual-e5 two-tower
recommender, trained on the same logged impressions as the Wide&Deep retrain.

Why two towers and not a cross-encoder reranker: a reranker reads (request, shop) pairs, i.e. one
transformer pass per candidate (20-40 per turn, ~15 ms each on one core here), while a two-tower
model embeds the request once per turn and compares it with shop vectors computed offline. So
group B costs one short query embedding per turn, whatever the candidate count.

* ``texts``: the query tower's input, what the child said (the context, time of day, budget and
  usual food, reaches the model as side features), the same function at training and serving;
* ``tower``: the bundle (adapter, shop vectors, head), the merged-weight query encoder and the
  scorer the service calls;
* ``fit``: the Lightning module and data module that adapt the query side with LoRA (peft);
* ``retrain``: the nightly run: logged impressions → fit → holdout table → MLflow registry
  (``naviyam-lora-recommender``) and ``model_training_logs`` (``lora_adapter``).

The shop side stays the frozen base model: shop vectors are the retrieval index's own document
embeddings (``embedding_cache``), so adapting the query side moves requests towards the shops
children ordered from; a learned per-shop bias and a linear head over a few candidate features
(``tower.SIDE_FEATURES``) carry what text cannot say.
"""
