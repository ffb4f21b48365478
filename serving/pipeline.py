"""One chat turn, stage by stage (spec §3 phases 1–4):

context → (embedding) → NLU → dialogue + strategy → account (card, wallet, emergency coupon) →
retrieval → coupons + affordability → features → Wide&Deep scoring (A/B variant, urgent
reweighting) → answer → context save + logs (queued, off the request path).

Every stage is timed; the timings go back to the client and into ``performance_logs``.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from infra.event_log import new_event_id
from models.nlu import store as nlu_store
from serving import ab, answer as answer_mod, coupon_wallet as cw, dialogue, features as feat, meal_card as mc
from serving import clock as sim_clock, places, strategy as st
from serving.ports import Account, Candidate
from serving.schemas import ChatRequest, FeedbackRequest

log = logging.getLogger(__name__)

RETRIEVAL_LIMIT = 40
MAX_SCORED_SHOPS = 20
NEARBY_RADIUS_M = 3000.0
URGENT_RADIUS_M = 2000.0
CONTEXT_TTL = timedelta(hours=24)
#: actions that mean the child picked this shop (recommendations_log.user_final_selection)
CHOOSING_ACTIONS = frozenset({"selection", "order", "coupon_use"})
INTERACTION_TYPES = {"detail_view": "detail_view", "selection": "selection", "coupon_use": "coupon_use",
                     "order": "order", "satisfaction": "feedback"}


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + (time.perf_counter() - t) * 1000

    def total(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def open_at(minute: int, open_min: int | None, close_min: int | None) -> bool | None:
    if open_min is None or close_min is None:
        return None
    if close_min > open_min:
        return open_min <= minute < close_min
    return minute >= open_min or minute < close_min  # overnight or 24 h


@dataclass
class Priced:
    cand: Candidate
    coupon: cw.AppliedCoupon | None
    final_price: int
    affordable: bool
    takes_card: bool
    distance_m: float | None
    open_now: bool
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    contributions: dict[str, float] = field(default_factory=dict)
    model_features: dict[str, float] | None = None  # what the ranker computed, stored when present
    explored: bool = False  # shown by the exploration share, not by its score


class ChatPipeline:
    def __init__(self, *, nlu, retrieval, accounts, shop_features, user_features, contexts, events, scorers,
                 answerer=None, tz=timezone.utc, challenger_share: float = ab.DEFAULT_CHALLENGER_SHARE,
                 clock=None, exploration_share: float = 0.0) -> None:
        self.nlu = nlu
        self.retrieval = retrieval
        self.accounts = accounts
        self.shop_features = shop_features
        self.user_features = user_features
        self.contexts = contexts
        self.events = events
        self.scorers = scorers
        self.answerer = answerer or answer_mod.TemplateAnswerer()
        self.tz = tz
        self.challenger_share = challenger_share
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.exploration_share = exploration_share
        try:
            import psutil

            self._proc = psutil.Process()
        except Exception:  # pragma: no cover
            self._proc = None

    def close(self) -> None:
        """Drain the event log and the retrieval cache writer (service shutdown, CLI exit)."""
        self.events.close()
        flush = getattr(self.retrieval, "flush", None)
        if flush is not None:
            flush()

    # ------------------------------------------------------------------------------------
    def chat(self, req: ChatRequest) -> dict[str, Any]:
        sw = Stopwatch()
        now = self.clock()
        local = now.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        event_id = new_event_id()
        caches: dict[str, str] = {}
        try:
            return self._chat(req, sw, now, local, minute, event_id, caches)
        except Exception as exc:
            self._emit_failure(req, sw, now, event_id, exc)
            raise

    def _chat(self, req, sw, now, local, minute, event_id, caches) -> dict[str, Any]:
        # --- context ----------------------------------------------------------------------
        with sw.stage("context"):
            try:
                saved, level, user_turns = self.contexts.load(req.session_id, req.user_id)
            except Exception as exc:  # PostgreSQL down and nothing cached: a fresh context, not an error
                log.warning("context unavailable (%s); starting a fresh one", type(exc).__name__)
                saved, level, user_turns = None, "unavailable", 0
            state = (dialogue.DialogueState.from_dict(saved) if saved
                     else dialogue.DialogueState.new(req.session_id, req.user_id, user_turns))
            state.user_turns = max(state.user_turns, user_turns)
        caches["context"] = level

        # --- NLU (the query embedding first, when the model reads it) -------------------------------
        vector = None
        if getattr(self.nlu, "wants_embedding", False):
            with sw.stage("embedding"):
                vector, caches["embedding"] = self.retrieval.embed(req.text)
        with sw.stage("nlu"):
            nlu = self.nlu.parse(req.text, user_id=req.user_id, embedding=vector)
        caches["nlu"] = nlu.source or ("hit" if nlu.cache_hit else "miss")

        # --- dialogue and strategy ---------------------------------------------------------------
        with sw.stage("dialogue"):
            turn = dialogue.interpret(state, nlu.normalized_text or req.text, nlu.intent, nlu.entities,
                                      food_matches=getattr(self.nlu, "food_matches", None))
            if turn.intent == "general_chat" and turn.entities.get("food_type"):
                turn.intent = "food_request"  # "떡볶이 좋아해": a stated food is something to recommend
            user_turn = state.user_turns + 1
            strategy = st.choose_strategy(user_turn, turn.intent, turn.entities)
            party = self.nlu.party_size(nlu.normalized_text or req.text) if turn.intent == "group_dining" else None

        # --- the child's card and wallet ------------------------------------------------------------
        with sw.stage("account"):
            emergency = False
            try:
                account = self.accounts.load(req.user_id)
                if account.user_key is not None and mc.needs_emergency_coupon(account.card, local.date()):
                    emergency = self.accounts.issue_emergency_coupon(account.user_key, {
                        "balance": account.card.balance, "local_date": local.date().isoformat(),
                        "session_id": req.session_id, "event_id": event_id})
                    if emergency:
                        account = self.accounts.load(req.user_id)
                caches["account"] = "postgres"
            except Exception as exc:  # PostgreSQL down: answer without card and wallet, and say nothing false
                log.warning("account unavailable (%s)", type(exc).__name__)
                account = Account(user_key=None)
                caches["account"] = "unavailable"
        card = account.card
        has_card = bool(card is not None and card.active)
        coupons = cw.live_coupons(account.coupons, now)

        finding = (turn.intent in dialogue.FOOD_FINDING_INTENTS or turn.refinement
                   or turn.intent == "coupon_inquiry" or turn.back_reference is not None)
        group = turn.intent == "group_dining" or turn.entities.get("companions") == "group"
        budget = turn.entities.get("budget")
        stated = budget
        if group:  # each pays their own share (the budget's per head is unknown without a party size)
            stated = int(budget / party) if budget and party else None
        limit = mc.spend_limit(stated, card)  # the child's own meal still has to fit the card
        if turn.cheaper and state.last_recommendations:
            cheapest = min(int(r.get("final_price") or 0) for r in state.last_recommendations)
            limit = min(limit, cheapest - 1) if limit is not None else cheapest - 1

        recommended: list[Priced] = []
        alternatives: list[Priced] = []
        variant, scorer_name = ab.CHAMPION, getattr(self.scorers.get(ab.CHAMPION), "name", "")
        method = "wide_deep"
        if turn.back_reference is not None:
            recommended = self._recall(state, turn.back_reference, turn, card, has_card, coupons, limit, req, minute)
            method = "hybrid"
        elif finding:
            recommended, alternatives, variant, scorer_name = self._recommend(
                req, sw, caches, state, turn, strategy, card, has_card, coupons, limit, group, party, minute, vector,
                nlu.normalized_text)
            if strategy == st.URGENT:
                method = "emergency"
            elif turn.intent == "coupon_inquiry":
                method = "coupon_based"
            elif "fallback" in scorer_name:
                method = "hybrid"

        # --- answer ---------------------------------------------------------------------------------
        with sw.stage("answer"):
            recs_out = [self._rec_out(i + 1, p) for i, p in enumerate(recommended)]
            # only a recalled recommendation can be over the limit now; the answer says so
            over_budget = [r for r in recs_out if not r["affordable"]]
            alts_out = [self._rec_out(i + 1, p) for i, p in enumerate(alternatives)]
            plan = answer_mod.AnswerPlan(
                strategy=strategy, intent=turn.intent, entities=turn.entities, recommendations=recs_out,
                spend_limit=limit, balance=card.balance if has_card else None, has_card=has_card,
                emergency_coupon=({"name": "월말 긴급 지원 쿠폰", "amount": cw.EMERGENCY_DISCOUNT_WON} if emergency else None),
                wallet=cw.summarize(coupons), alternatives=self._alt_plan(alternatives, coupons),
                over_budget=over_budget,
                ask_preference=st.wants_preference_question(strategy, len(state.liked_categories) + (1 if turn.entities.get("food_type") else 0)),
                party_size=party, refinement=turn.refinement, back_reference=turn.back_reference is not None,
                cheaper=turn.cheaper, balance_unknown=caches.get("account") == "unavailable",
                seed=int(event_id[:8], 16),
            )
            text = self.answerer.generate(plan)

        # --- remember and log (queued; never waits on the database) -------------------------------------
        with sw.stage("logging"):
            new_state = dialogue.remember(state, turn=turn, intent=nlu.intent, entities=nlu.entities,
                                          strategy=strategy, recommendations=recs_out)
            self.contexts.save(new_state.to_dict())
            timings = {k: round(v, 3) for k, v in sw.stages.items()}
            total = sw.total()
            self._emit_turn(req, now, event_id, nlu, turn, strategy, new_state, recs_out, recommended, text,
                            timings, total, caches, variant, scorer_name, method, coupons)
        timings = {k: round(v, 3) for k, v in sw.stages.items()}
        timings["total"] = round(sw.total(), 3)
        return {
            "event_id": event_id, "user_id": req.user_id, "session_id": req.session_id, "turn": new_state.turn,
            "user_turn": user_turn, "answer": text, "intent": turn.intent, "confidence": round(nlu.confidence, 4),
            "entities": turn.entities, "nlu_entities": nlu.entities, "strategy": strategy, "model_variant": variant,
            "ranking_model": scorer_name, "recommendations": recs_out, "alternatives": alts_out,
            "meal_card": {"has_card": has_card, "balance": card.balance if has_card else None, "spend_limit": limit,
                          "emergency_coupon_issued": emergency,
                          "balance_checked": caches.get("account") != "unavailable"},
            "refinement": turn.refinement, "back_reference": turn.back_reference is not None,
            "timings_ms": timings, "cache": caches,
        }

    # ------------------------------------------------------------------------------------
    def _filters(self, req, turn, strategy, has_card, limit, max_discount, group) -> dict[str, Any]:
        f: dict[str, Any] = {"open_now": True}
        food = turn.entities.get("food_type")
        if food and food not in turn.excluded_categories:
            f["categories"] = [food]
        if not _asks_for_snack(food, req.text):
            # a hungry child asking for a meal must not be offered a can of cider
            f["menu_categories"] = list(MEAL_MENU_CATEGORIES)
        if limit is not None:
            f["max_price"] = int(limit + max_discount)
        if (has_card and not group) or strategy == st.URGENT:
            f["food_card_only"] = True
        if turn.entities.get("dietary_restrictions"):
            f["dietary"] = list(turn.entities["dietary_restrictions"])
        here = (req.location.lat, req.location.lon) if req.location is not None else None
        spot = places.locate(turn.entities.get("location_preference"), near=here)
        if spot is not None:  # "망원동 근처": around that place, wherever the child is now
            f["near"] = spot.as_near()
        elif here is not None and (strategy == st.URGENT or turn.entities.get("location_preference") == "nearby"
                                   or turn.closer):
            radius = URGENT_RADIUS_M if strategy == st.URGENT else NEARBY_RADIUS_M
            f["near"] = (*here, radius)
        return f

    def _recommend(self, req, sw, caches, state, turn, strategy, card, has_card, coupons, limit, group, party,
                   minute, vector, normalized_text):
        max_d = cw.max_discount(coupons, self.clock(), limit) if limit is not None else 0
        filters = self._filters(req, turn, strategy, has_card, limit, max_d, group)
        query = turn.query_text
        same_text = query == req.text or query == normalized_text
        with sw.stage("retrieval"):
            out = self.retrieval.search(query, filters, RETRIEVAL_LIMIT, query_vector=vector if same_text else None)
        caches["retrieval"] = out.cache
        if out.embedding and "embedding" not in caches:
            caches["embedding"] = out.embedding
        shown_before = {int(r["shop_id"]) for r in state.last_recommendations} if turn.other else set()

        with sw.stage("coupons"):
            priced = self._price(out.candidates, turn, card, has_card, coupons, limit, req, minute, shown_before,
                                 open_known=True)
            fitting = [p for p in priced if p.affordable]
            if turn.intent == "coupon_inquiry" and any(p.coupon for p in fitting):
                fitting = [p for p in fitting if p.coupon]

        variant = ab.assign_variant(req.user_id, challenger_share=self.challenger_share,
                                    challenger_available=ab.CHALLENGER in self.scorers)
        scorer = self.scorers[variant]
        if fitting:
            with sw.stage("features"):
                shop_ids = [p.cand.shop_id for p in fitting]
                try:
                    user_f, caches["user_features"] = self.user_features.get(req.user_id, shop_ids)
                except Exception as exc:  # answer with cold-start features rather than not at all
                    log.warning("user features unavailable (%s)", type(exc).__name__)
                    user_f, caches["user_features"] = {}, "unavailable"
                shops = self.shop_features.get(shop_ids)
                self._featurize(fitting, shops, user_f, state, turn, limit, minute)
            with sw.stage("ranking"):
                self._score(scorer, fitting, shops, user_f, req, limit, strategy, minute)
                fitting.sort(key=(lambda p: (round((p.distance_m or 0) / 200), -p.score)) if strategy == st.URGENT
                             and req.location is not None else (lambda p: -p.score))
            shown = fitting[: st.max_recommendations(strategy, req.max_results)]
            if strategy != st.URGENT and exploring(self.exploration_share, req.user_id, req.session_id, self.clock()):
                shown = explore(fitting, len(shown), req.user_id, self.clock())
            return shown, [], variant, scorer.name

        # nothing fits: the nearest and the cheapest options without the price ceiling, said as such
        with sw.stage("alternatives"):
            relaxed = {k: v for k, v in filters.items() if k != "max_price"}
            alt = self.retrieval.search(query, relaxed, 20, query_vector=vector if same_text else None)
            if not alt.candidates and "near" in relaxed:  # nothing close by either: look further
                relaxed.pop("near")
                alt = self.retrieval.search(query, relaxed, 20, query_vector=vector if same_text else None)
            priced_alt = self._price(alt.candidates, turn, card, has_card, coupons, limit, req, minute, set(),
                                     open_known=True)
            alts: list[Priced] = []
            if priced_alt:
                alts.append(min(priced_alt, key=lambda p: p.final_price))
                near = [p for p in priced_alt if p.distance_m is not None]
                if near:
                    n = min(near, key=lambda p: p.distance_m)
                    if n is not alts[0]:
                        alts.append(n)
        return [], alts, variant, scorer.name

    def _price(self, candidates, turn, card, has_card, coupons, limit, req, minute, shown_before, *, open_known):
        best: dict[int, Priced] = {}
        for c in candidates:
            if c.category in turn.excluded_categories or c.shop_id in shown_before:
                continue
            takes = mc.shop_takes_card(c.food_card_flag)
            applied = cw.best_coupon(coupons, cw.Order(shop_id=c.shop_id, category=c.category, price=c.price,
                                                       shop_takes_card=takes, has_active_card=has_card, now=self.clock()))
            final = applied.final_price if applied else c.price
            affordable = mc.affordable(final, limit)
            dist = None
            if req.location is not None and c.lat is not None and c.lon is not None:
                dist = feat.haversine_m(req.location.lat, req.location.lon, float(c.lat), float(c.lon))
            is_open = open_at(minute, c.open_min, c.close_min)
            p = Priced(c, applied, final, affordable, takes, dist, True if open_known and is_open is None else bool(is_open))
            prev = best.get(c.shop_id)
            # one menu per shop: the best-matching affordable one (hits come best first)
            if prev is None or (p.affordable and not prev.affordable):
                best[c.shop_id] = p
        return list(best.values())[:MAX_SCORED_SHOPS]

    def _featurize(self, fitting, shops, user_f, state, turn, limit, minute) -> None:
        liked = list(state.liked_categories)
        if turn.entities.get("food_type"):
            liked.append(turn.entities["food_type"])
        items = [feat.CandidateInput(category=p.cand.category, final_price=p.final_price, distance_m=p.distance_m,
                                     shop=shops.get(p.cand.shop_id) or {"shop_id": p.cand.shop_id},
                                     meal_card_usable=p.takes_card) for p in fitting]
        for p, f in zip(fitting, feat.candidate_features(items, user=user_f, liked=liked, limit=limit,
                                                          minute_of_day=minute)):
            p.features = f

    def _score(self, scorer, fitting, shops, user_f, req, limit, strategy, minute) -> None:
        cand_feats = []
        for p in fitting:
            shop = shops.get(p.cand.shop_id) or {}
            cand_feats.append({**shop, **p.features, "shop_id": p.cand.shop_id, "menu_id": p.cand.menu_id,
                               "category": p.cand.category, "price": p.cand.price, "final_price": p.final_price,
                               "lat": p.cand.lat, "lon": p.cand.lon, "distance_m": p.distance_m})
        context = {"minute_of_day": minute, "lat": req.location.lat if req.location else None,
                   "lon": req.location.lon if req.location else None, "budget": limit, "strategy": strategy}
        result = scorer.score({**user_f, "user_id": req.user_id}, cand_feats, context)
        self_reweights = not getattr(scorer, "applies_strategy", False)
        for i, p in enumerate(fitting):
            s = float(result.scores[i])
            contrib = dict(result.contributions[i]) if i < len(result.contributions) else {}
            if self_reweights:
                s, contrib = st.reweight_score(s, contrib, strategy)
            if result.features and i < len(result.features):  # the ranker's own engineered columns
                p.model_features = {k: float(v) for k, v in result.features[i].items() if k in feat.STORED}
            p.score, p.contributions = s, contrib

    def _recall(self, state, index: int, turn, card, has_card, coupons, limit, req, minute) -> list[Priced]:
        """"아까 거": the recommendation referred to, priced again against today's card and wallet
        (a coupon may have been used since, the balance may have dropped)."""
        items = list(state.last_recommendations)
        if not items:
            return []
        r = items[index] if -len(items) <= index < len(items) else items[0]
        c = Candidate(shop_id=int(r["shop_id"]), menu_id=r.get("menu_id"), shop_name=r.get("shop_name") or "",
                      menu_name=r.get("menu_name") or "", price=int(r.get("price") or 0),
                      category=r.get("category") or "", food_card_flag="Y" if r.get("meal_card_usable") else "N")
        priced = self._price([c], turn, card, has_card, coupons, limit, req, minute, set(), open_known=True)
        if not priced:
            return []
        p = priced[0]
        # the opening hours are not in the context: the status shown a few minutes ago stands
        p.open_now, p.score = bool(r.get("open_now", True)), 1.0
        if p.distance_m is None:
            p.distance_m = r.get("distance_m")
        return [p]

    @staticmethod
    def _rec_out(rank: int, p: Priced) -> dict[str, Any]:
        breakdown = feat.reason_breakdown(p.features, p.open_now) if p.features else {}
        return {
            "rank": rank, "shop_id": p.cand.shop_id, "shop_name": p.cand.shop_name, "menu_id": p.cand.menu_id,
            "menu_name": p.cand.menu_name, "category": p.cand.category, "price": p.cand.price,
            "coupon": ({"coupon_id": p.coupon.coupon.coupon_id, "name": p.coupon.coupon.name,
                        "discount": p.coupon.discount} if p.coupon else None),
            "coupon_id": p.coupon.coupon.coupon_id if p.coupon else None,
            "coupon_name": p.coupon.coupon.name if p.coupon else None,
            "final_price": p.final_price, "affordable": p.affordable, "meal_card_usable": p.takes_card,
            "open_now": p.open_now, "distance_m": round(p.distance_m, 1) if p.distance_m is not None else None,
            "reason": feat.reason_label(breakdown) if breakdown else "아까 추천",
            "reason_breakdown": breakdown, "score": round(float(p.score), 4),
            "feature_contributions": {k: round(float(v), 4) for k, v in p.contributions.items()},
            **({"explored": True} if p.explored else {}),
        }

    @staticmethod
    def _alt_plan(alternatives: list[Priced], coupons) -> list[dict[str, Any]]:
        out = []
        for i, p in enumerate(alternatives):
            kind = "cheaper_menu" if i == 0 else "nearest"
            out.append({"kind": kind, "shop_name": p.cand.shop_name, "menu_name": p.cand.menu_name,
                        "final_price": p.final_price, "distance_m": p.distance_m})
        if alternatives and alternatives[0].coupon:  # the price above already counts it; say which
            c = alternatives[0].coupon
            out.insert(1, {"kind": "coupon", "coupon_name": c.coupon.name, "discount": c.discount})
        return out

    # ------------------------------------------------------------------------------------
    def _perf_row(self, req, now, sw_stages, total, caches, *, success, error_type=None, confidence=None,
                  operation="chat", variant=None, model=None) -> dict[str, Any]:
        stages = dict(sw_stages)
        # the cache levels this turn went through (user features read from Feast are a store, not a cache)
        hits = [v for k, v in caches.items() if k in ("context", "nlu", "embedding", "retrieval")
                or (k == "user_features" and v in ("l1", "miss"))]
        hit_levels = {"l1", "l2", "l3", "redis", "postgres", "given", "cache_l1", "cache_redis", "cache_db"}
        rate = (sum(1 for v in hits if v in hit_levels) / len(hits)) if hits else None
        measured = {k: v for k, v in stages.items() if k != "logging"}
        bottleneck = max(measured, key=lambda k: measured[k]) if measured else None
        mem = cpu = None
        if self._proc is not None:
            try:
                mem = round(self._proc.memory_info().rss / 2**20, 1)
                cpu = round(self._proc.cpu_percent(None), 1)  # since the previous turn, this process
            except Exception:
                mem = cpu = None
        n = len(req.text) if req is not None else 0
        return {
            "timestamp": now, "operation_type": operation,
            "processing_time_ms": int(round(total - stages.get("logging", 0.0))),
            "nlu_time_ms": int(round(stages.get("nlu", 0.0) + stages.get("embedding", 0.0))),
            "rag_time_ms": int(round(stages.get("retrieval", 0.0) + stages.get("alternatives", 0.0))),
            "recommendation_time_ms": int(round(stages.get("features", 0.0) + stages.get("ranking", 0.0)
                                                + stages.get("coupons", 0.0))),
            "response_generation_time_ms": int(round(stages.get("answer", 0.0))),
            "total_time_ms": int(round(total)), "memory_usage_mb": mem, "cpu_usage_percent": cpu,
            "cache_hit_rate": round(rate, 3) if rate is not None else None,
            "confidence_score": round(min(1.0, max(0.0, confidence)), 3) if confidence is not None else None,
            "success": success, "error_type": error_type,
            "user_id": req.user_id if req else None, "session_id": req.session_id if req else None,
            "request_complexity": "simple" if n < 12 else "moderate" if n < 40 else "complex",
            "bottleneck_component": bottleneck,
            "optimization_suggestions": {"stage_ms": {k: round(v, 3) for k, v in stages.items()}, "cache": caches,
                                         "model_variant": variant, "ranking_model": model,
                                         **sim_clock.audit()},
            "event_id": new_event_id(),
        }

    def _emit_failure(self, req, sw, now, event_id, exc) -> None:
        try:
            row = self._perf_row(req, now, sw.stages, sw.total(), {}, success=False, error_type=type(exc).__name__)
            row["error_message"] = str(exc)[:300]
            self.events.emit_many([("performance_logs", row)])
        except Exception:  # logging must never mask the original error
            log.exception("could not log a failed turn")

    def _emit_turn(self, req, now, event_id, nlu, turn, strategy, state, recs_out, recommended, text, timings, total,
                   caches, variant, scorer_name, method, coupons) -> None:
        ents = nlu.entities
        events: list[tuple[str, Mapping[str, Any]]] = [
            ("conversations", {
                "user_id": req.user_id, "session_id": req.session_id, "conversation_id": req.session_id,
                "input_text": req.text, "response_text": text, "timestamp": now, "extracted_intent": nlu.intent,
                "intent_confidence": round(min(1.0, max(0.0, nlu.confidence)), 3), "extracted_entities": ents,
                "user_strategy": strategy, "conversation_turn": state.turn, "previous_intent": state.last_intent,
                "processing_time_ms": int(round(total)), "nlu_time_ms": int(round(timings.get("nlu", 0.0))),
                "response_time_ms": int(round(timings.get("answer", 0.0))), "event_id": event_id}),
            ("conversation_contexts", {
                "session_id": req.session_id, "user_id": req.user_id, "conversation_turn": state.turn,
                "context_data": dialogue.context_data(state),
                "user_state": {"strategy": strategy, "user_turns": state.user_turns,
                               "completeness": round(min(1.0, len(state.liked_categories) / 3), 2)},
                "context_type": strategy, "importance_score": 0.9 if strategy == st.URGENT else 0.5,
                "timestamp": now, "expires_at": now + CONTEXT_TTL}),
            ("user_interactions", {
                "user_id": req.user_id, "session_id": req.session_id, "timestamp": now, "interaction_type": "text_input",
                "intent": turn.intent, "entities": turn.entities, "food_preference_extracted": ents.get("food_type"),
                "budget_pattern_extracted": ents.get("budget"), "companion_pattern_extracted": ents.get("companions"),
                "decision_confidence": round(min(1.0, max(0.0, nlu.confidence)), 3), "event_id": new_event_id()}),
            ("nlu_training_data", {
                **nlu_store.result_row(req.text, nlu.normalized_text, nlu.intent, nlu.confidence, ents,
                                       nlu.model_version or "", req.user_id),
                "created_at": now}),
        ]
        log_recs = [{"shop_id": r["shop_id"], "shop_name": r["shop_name"], "menu_id": r["menu_id"],
                     "menu_name": r["menu_name"], "score": r["score"], "ranking": r["rank"], "reason": r["reason"],
                     "reason_breakdown": r["reason_breakdown"],
                     "applicable_coupons": [r["coupon_id"]] if r["coupon_id"] else [],
                     "final_price_with_coupon": r["final_price"], "price": r["price"],
                     **({"explored": True} if r.get("explored") else {})} for r in recs_out]
        cats = {r["category"] for r in recs_out}
        events.append(("recommendations_log", {
            "user_id": req.user_id, "session_id": req.session_id, "timestamp": now, "request_intent": turn.intent,
            "request_entities": turn.entities, "recommendations": log_recs, "recommendation_count": len(recs_out),
            "recommendation_method": method if recs_out else ("coupon_based" if turn.intent == "coupon_inquiry" else method),
            "confidence_score": round(min(1.0, max(0.0, nlu.confidence)), 3),
            "total_discount_available": sum(int(r["coupon"]["discount"]) for r in recs_out if r["coupon"]),
            "diversity_score": round(len(cats) / len(recs_out), 3) if recs_out else None,
            "personalization_score": round(sum(r["reason_breakdown"].get("personal_preference", 0.0) for r in recs_out)
                                           / len(recs_out), 3) if recs_out else None,
            "model_variant": variant, "event_id": event_id}))
        for p, r in zip(recommended, recs_out):
            if not p.features:
                continue
            stored = p.model_features or p.features
            row = {k: round(min(1.0, max(0.0, float(stored.get(k, p.features.get(k, 0.0))))), 3) for k in feat.STORED}
            row.update({"user_id": req.user_id, "shop_id": p.cand.shop_id, "timestamp": now,
                        "visited_before": bool(p.features.get("visited_before")),
                        "predicted_score": round(min(1.0, max(0.0, p.score)), 3), "ranking_position": r["rank"],
                        "feature_contributions": r["feature_contributions"], "recommendation_event_id": event_id})
            events.append(("recommendation_features", row))
        events.append(("performance_logs", self._perf_row(
            req, now, timings, total, caches, success=True, confidence=nlu.confidence,
            operation="emergency_recommendation" if strategy == st.URGENT else "chat", variant=variant,
            model=scorer_name)))
        self.events.emit_many(events)

    # ------------------------------------------------------------------------------------
    def feedback(self, req: FeedbackRequest) -> tuple[dict[str, Any], int]:
        now = self.clock()
        status, code, discount = "recorded", 200, None
        if req.action == "coupon_use":
            from serving.adapters import user_key

            uid = user_key(req.user_id)
            ok = False
            if uid is not None:
                if req.order_amount is not None:
                    acct = self.accounts.load(req.user_id)
                    held = next((c for c in acct.coupons if c.coupon_id == req.coupon_id), None)
                    discount = cw.discount_for(held, req.order_amount) if held else None
                ok = self.accounts.use_coupon(uid, req.coupon_id, req.shop_id, req.menu_id, req.order_amount, discount)
            status, code = ("coupon_used", 200) if ok else ("coupon_unavailable", 409)
        paid_from = None  # the card balance an order was paid from (what the A/B mart weighs the price by)
        if req.action == "order" and req.menu_id is not None and req.order_amount is not None:
            from serving.adapters import user_key

            uid = user_key(req.user_id)  # a first-time chat user has no users row to order under
            if uid is not None:  # product_orders + the card payment (serving/orders.py)
                paid_from = self.accounts.record_order(uid, req.shop_id, req.menu_id, req.order_amount,
                                                       now).card_balance_before
        event_id = new_event_id()
        selection = {"shop_id": req.shop_id, "menu_ids": [req.menu_id] if req.menu_id else [],
                     "coupon_id": req.coupon_id, "final_price": req.order_amount,
                     "recommendation_id": req.recommendation_id, "action": req.action,
                     **({"card_balance_before": paid_from} if paid_from is not None else {})}
        chose = req.action in CHOOSING_ACTIONS and (req.action != "coupon_use" or code == 200)
        self.events.emit_many([("user_interactions", {
            "user_id": req.user_id, "session_id": req.session_id, "timestamp": now,
            "interaction_type": INTERACTION_TYPES[req.action], "user_selection": selection,
            "coupon_usage": ({"coupon_id": req.coupon_id, "result": status, "discount": discount}
                             if req.action == "coupon_use" else None),
            "satisfaction_score": req.satisfaction, "interaction_sequence_pattern": req.action,
            "event_id": event_id}),
            ("recommendation_reactions", {
                "recommendation_id": req.recommendation_id, "at": now,
                "viewed_shop_id": req.shop_id if req.action != "satisfaction" else None,
                "selected_shop_id": req.shop_id if chose else None})])
        return {"ok": code == 200, "status": status, "event_id": event_id}, code


def exploring(share: float, user_id: str, session_id: str, now: datetime) -> bool:
    """Whether this list is an exploration list: a stable hash of who, where and when (so a replayed
    or simulated request explores the same way), under ``share``."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"explore:{user_id}:{session_id}:{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def explore(ranked: list[Priced], k: int, user_id: str, now: datetime) -> list[Priced]:
    """``k`` of the best ``k + 2`` candidates in random order, each marked ``explored`` (and so logged):
    lower-ranked shops get impressions, and views by position measure position bias alone
    (models/ranking/logged.py estimates the propensities from these lists)."""
    pool = ranked[: k + 2]
    rng = random.Random(f"{user_id}:{now.isoformat()}")
    shown = rng.sample(pool, min(k, len(pool)))
    for p in shown:
        p.explored = True
    return shown


MEAL_MENU_CATEGORIES = ("메인메뉴", "세트메뉴")
SNACK_FOOD_TYPES = frozenset({"카페·디저트", "베이커리"})
SNACK_WORDS = ("음료", "마실", "디저트", "간식", "커피", "주스", "빵", "케이크", "아이스크림", "빙수", "사이드")


def _asks_for_snack(food_type: str | None, text: str) -> bool:
    """True when the child asks for a drink, dessert or side rather than a meal."""
    return food_type in SNACK_FOOD_TYPES or any(word in text for word in SNACK_WORDS)
